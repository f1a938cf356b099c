// spec.acr: an Azure Container Registry refresh token, written with the all-zero username ACR
// expects. A Microsoft Entra (AAD) token for the registry audience comes from a service principal
// (client credentials from the Secret), else from Azure Workload Identity (the federated token the
// AKS webhook projects), else from a managed identity (App Service-style IDENTITY_ENDPOINT, else
// IMDS, as on AKS nodes); it is then exchanged at the registry's /oauth2/exchange. The exchange
// sends the AAD token to `spec.acr.registry`, so only hosts with an operator-allowed suffix qualify.
import { readFile } from "node:fs/promises";
import type { AcrSpec, InputSecret, MintedCredential, ProviderInput } from "../provider.ts";
import { ProviderError } from "../provider.ts";
import { type Call, endpoint, jwtClaims, sendForJson, stringField } from "./http.ts";

export const ACR_USERNAME = "00000000-0000-0000-0000-000000000000";
/** The registry audience: accepted even where a registry refuses ARM-audience tokens. */
const RESOURCE = "https://containerregistry.azure.net";
const DEFAULT_AUTHORITY = "https://login.microsoftonline.com/";
const DEFAULT_IMDS = "http://169.254.169.254";
const CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;
const TENANT = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

interface AadToken {
  token: string;
  /** The client ID the token was issued to, shown as the identity. */
  clientID: string;
}

export async function mintAcr(spec: AcrSpec, input: ProviderInput): Promise<MintedCredential> {
  const registry = allowedRegistry(spec.registry, input.endpoints.acrRegistrySuffixes);
  if (!TENANT.test(spec.tenantID)) {
    throw new ProviderError(
      `acr: spec.acr.tenantID "${spec.tenantID}" is not a tenant ID (a GUID or a domain name)`,
      false,
    );
  }
  const aad = await aadToken(spec, input);
  const refreshToken = await exchange(registry, spec.tenantID, aad.token, input);
  return {
    auths: { [registry]: { username: ACR_USERNAME, password: refreshToken.token } },
    expiresAt: refreshToken.expiresAt,
    identity: aad.clientID,
  };
}

function allowedRegistry(registry: string, suffixes: string[]): string {
  const host = registry.toLowerCase();
  if (HOST.test(host) && suffixes.some((suffix) => host.endsWith(suffix.toLowerCase()))) return host;
  throw new ProviderError(
    `acr: spec.acr.registry "${registry}" is not an Azure Container Registry host: it must be a host name ending in ${suffixes.join(", ") || "(no suffix allowed: see --acr-registry-suffixes)"}, since the AAD token is sent there`,
    false,
  );
}

function aadToken(spec: AcrSpec, input: ProviderInput): Promise<AadToken> {
  if (spec.secretRef) return servicePrincipal(spec, spec.secretRef.name, input.secret, input);
  const federatedTokenFile = input.env.AZURE_FEDERATED_TOKEN_FILE;
  if (federatedTokenFile) return workloadIdentity(spec, federatedTokenFile, input);
  return managedIdentity(input);
}

function tokenCall(tenantID: string, form: Record<string, string>, input: ProviderInput): Call {
  const authority = input.env.AZURE_AUTHORITY_HOST || DEFAULT_AUTHORITY;
  const base = authority.endsWith("/") ? authority : `${authority}/`;
  return {
    provider: "acr",
    method: "POST",
    url: new URL(`${base}${tenantID}/oauth2/v2.0/token`),
    form: { ...form, grant_type: "client_credentials", scope: `${RESOURCE}/.default` },
    signal: input.signal,
  };
}

async function servicePrincipal(
  spec: AcrSpec,
  secretName: string,
  secret: InputSecret | undefined,
  input: ProviderInput,
): Promise<AadToken> {
  const field = "spec.acr.secretRef";
  if (!secret) throw new ProviderError(`acr: ${field}: Secret "${secretName}" does not exist`, false);
  const value = (key: string) => {
    const text = secret.data[key]?.toString("utf8").trim();
    if (!text) {
      throw new ProviderError(
        `acr: ${field}: Secret "${secretName}" has no key "${key}"; it needs the service principal's clientID and clientSecret`,
        false,
      );
    }
    return text;
  };
  const clientID = value("clientID");
  const call = tokenCall(spec.tenantID, { client_id: clientID, client_secret: value("clientSecret") }, input);
  return { token: stringField(call, await sendForJson(call), "access_token"), clientID };
}

async function workloadIdentity(spec: AcrSpec, file: string, input: ProviderInput): Promise<AadToken> {
  const { AZURE_CLIENT_ID: clientID, AZURE_TENANT_ID: tenantID } = input.env;
  if (!clientID) {
    throw new ProviderError(
      "acr: Azure Workload Identity: AZURE_FEDERATED_TOKEN_FILE is set but AZURE_CLIENT_ID is not; label the controller's pod azure.workload.identity/use=true and annotate its ServiceAccount with azure.workload.identity/client-id",
      false,
    );
  }
  if (tenantID && tenantID.toLowerCase() !== spec.tenantID.toLowerCase()) {
    throw new ProviderError(
      `acr: spec.acr.tenantID "${spec.tenantID}" differs from the controller's Workload Identity tenant AZURE_TENANT_ID "${tenantID}"; use that tenant or a service principal (spec.acr.secretRef)`,
      false,
    );
  }
  let assertion: string;
  try {
    // Read on every mint: the kubelet rotates the projected token.
    assertion = (await readFile(file, "utf8")).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ProviderError(`acr: AZURE_FEDERATED_TOKEN_FILE ${file}: ${code}`, true);
  }
  const call = tokenCall(
    spec.tenantID,
    { client_id: clientID, client_assertion_type: CLIENT_ASSERTION, client_assertion: assertion },
    input,
  );
  return { token: stringField(call, await sendForJson(call), "access_token"), clientID };
}

/** App Service-style identity endpoint where its variables exist, else IMDS (Azure VMs, AKS nodes). */
async function managedIdentity(input: ProviderInput): Promise<AadToken> {
  const { IDENTITY_ENDPOINT, IDENTITY_HEADER, AZURE_CLIENT_ID, AZURE_POD_IDENTITY_AUTHORITY_HOST } =
    input.env;
  const appService = IDENTITY_ENDPOINT && IDENTITY_HEADER;
  const url = appService
    ? new URL(IDENTITY_ENDPOINT)
    : new URL("/metadata/identity/oauth2/token", AZURE_POD_IDENTITY_AUTHORITY_HOST || DEFAULT_IMDS);
  url.searchParams.set("api-version", appService ? "2019-08-01" : "2018-02-01");
  url.searchParams.set("resource", RESOURCE);
  // A user-assigned identity (the AKS kubelet identity is one) is chosen by its client ID.
  if (AZURE_CLIENT_ID) url.searchParams.set("client_id", AZURE_CLIENT_ID);
  const call: Call = {
    provider: "acr",
    method: "GET",
    url,
    headers: appService ? { "x-identity-header": IDENTITY_HEADER } : { metadata: "true" },
    signal: input.signal,
  };
  const body = await sendForJson(call);
  const clientID = typeof body.client_id === "string" ? body.client_id : AZURE_CLIENT_ID;
  return { token: stringField(call, body, "access_token"), clientID: clientID || "managed identity" };
}

async function exchange(registry: string, tenant: string, aadToken: string, input: ProviderInput) {
  const call: Call = {
    provider: "acr",
    method: "POST",
    url: new URL(`https://${registry}/oauth2/exchange`),
    form: { grant_type: "access_token", service: registry, tenant, access_token: aadToken },
    signal: input.signal,
  };
  const token = stringField(call, await sendForJson(call), "refresh_token");
  const exp = jwtClaims(token)?.exp;
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw new ProviderError(
      `acr: ${endpoint(call)}: the refresh token has no exp claim; the lifetime is never assumed`,
      true,
    );
  }
  return { token, expiresAt: new Date(exp * 1000) };
}
