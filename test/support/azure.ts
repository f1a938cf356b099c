// Loopback stand-ins for Microsoft Entra ID (the v2.0 token endpoint of one tenant), the managed
// identity endpoints (IMDS and App Service's IDENTITY_ENDPOINT) and an Azure Container Registry's
// /oauth2/exchange. They check what the real ones check: the client-credentials form and the
// client secret, or a federated client assertion (RS256 against the cluster issuer's key, audience,
// subject, time window); the registry accepts only a signed, unexpired AAD token for its audience
// and tenant, and answers with a refresh token (a JWT) whose `exp` is seconds ahead.
import { type KeyObject, randomBytes, randomUUID } from "node:crypto";
import { decodeJwt, rs256Valid, rsaKeyPair, signJwt, timeProblem } from "./jwt.ts";
import { formOf, listen, type Loopback, sendJson, type TestTls } from "./loopback.ts";

export const ACR_RESOURCE = "https://containerregistry.azure.net";
export const ACR_SCOPE = `${ACR_RESOURCE}/.default`;
export const CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
export const FEDERATED_AUDIENCE = "api://AzureADTokenExchange";

const now = () => Math.floor(Date.now() / 1000);

export interface Aad extends Loopback {
  tenantID: string;
  /** What AZURE_AUTHORITY_HOST is set to. */
  authorityHost: string;
  addClientSecret(clientID: string, secret: string): void;
  /** A federated credential: tokens of `issuerKey` with subject `subject` stand for `clientID`. */
  addFederatedCredential(clientID: string, issuerKey: KeyObject, subject: string): void;
  /** An access token for `clientID` in this tenant, as the token endpoint and the identity endpoints issue it. */
  issue(clientID: string): string;
  /** The claims of an access token this tenant issued, while it is valid. */
  verify(token: string): Record<string, unknown> | undefined;
  /** Access tokens issued (by the token endpoint and the identity endpoints), oldest first. */
  issued: string[];
  /** Every token endpoint request, accepted or refused. */
  requests: number;
  lifetimeSeconds: number;
}

export async function startAad(options: { tls: TestTls; lifetimeSeconds: number }): Promise<Aad> {
  const tenantID = randomUUID();
  const signing = rsaKeyPair();
  const secrets = new Map<string, string>();
  const federated = new Map<string, { issuerKey: KeyObject; subject: string }>();
  const refuse = (status: number, error: string, code: number) => ({ status, error, code });

  const aad: Aad = Object.assign(
    await listen((request, body, response) => {
      aad.requests++;
      const outcome =
        request.url === `/${tenantID}/oauth2/v2.0/token`
          ? grant(formOf(request, body))
          : refuse(400, "invalid_request", 90002);
      if ("error" in outcome) {
        sendJson(response, outcome.status, {
          error: outcome.error,
          error_description: `AADSTS${outcome.code}: refused by the test tenant`,
          error_codes: [outcome.code],
        });
      } else {
        sendJson(response, 200, {
          token_type: "Bearer",
          expires_in: aad.lifetimeSeconds,
          ext_expires_in: aad.lifetimeSeconds,
          access_token: outcome.token,
        });
      }
    }, options.tls),
    {
      tenantID,
      authorityHost: "",
      issued: [] as string[],
      requests: 0,
      lifetimeSeconds: options.lifetimeSeconds,
      addClientSecret: (clientID: string, secret: string) => void secrets.set(clientID, secret),
      addFederatedCredential: (clientID: string, issuerKey: KeyObject, subject: string) =>
        void federated.set(clientID, { issuerKey, subject }),
      issue(clientID: string) {
        const claims = {
          aud: ACR_RESOURCE,
          tid: tenantID,
          appid: clientID,
          iat: now(),
          exp: now() + aad.lifetimeSeconds,
        };
        const token = signJwt(claims, signing.privateKey);
        aad.issued.push(token);
        return token;
      },
      verify(token: string) {
        const claims = decodeJwt(token)?.claims;
        if (!claims || !rs256Valid(token, signing.publicKey)) return undefined;
        return timeProblem(claims, now(), 24 * 3600) ? undefined : claims;
      },
    },
  );
  aad.authorityHost = `${aad.url}/`;
  return aad;

  function grant(form: URLSearchParams | undefined) {
    if (form?.get("grant_type") !== "client_credentials") return refuse(400, "unsupported_grant_type", 70003);
    const clientID = form.get("client_id") ?? "";
    if (!secrets.has(clientID) && !federated.has(clientID)) return refuse(400, "unauthorized_client", 700016);
    const secret = form.get("client_secret");
    if (secret !== null) {
      if (secrets.get(clientID) !== secret) return refuse(401, "invalid_client", 7000215);
    } else if (!assertionValid(clientID, form)) {
      return refuse(401, "invalid_client", 700211);
    }
    if (form.get("scope") !== ACR_SCOPE) return refuse(400, "invalid_scope", 1002012);
    return { token: aad.issue(clientID) };
  }

  function assertionValid(clientID: string, form: URLSearchParams): boolean {
    const credential = federated.get(clientID);
    const assertion = form.get("client_assertion") ?? "";
    const claims = decodeJwt(assertion)?.claims;
    return (
      credential !== undefined &&
      claims !== undefined &&
      form.get("client_assertion_type") === CLIENT_ASSERTION &&
      rs256Valid(assertion, credential.issuerKey) &&
      claims.aud === FEDERATED_AUDIENCE &&
      claims.sub === credential.subject &&
      timeProblem(claims, now(), 24 * 3600) === undefined
    );
  }
}

export interface ManagedIdentityServer extends Loopback {
  /** The App Service-style endpoint (IDENTITY_ENDPOINT). */
  identityEndpoint: string;
  requests: number;
}

/**
 * A managed identity `clientID` of `aad`'s tenant behind IMDS (`/metadata/identity/oauth2/token`,
 * header `Metadata: true`) and an App Service-style endpoint (`/msi/token`, header
 * `X-IDENTITY-HEADER`). Both want the registry resource and, when given, the identity's client ID.
 */
export async function startManagedIdentity(options: {
  aad: Aad;
  clientID: string;
  identityHeader: string;
}): Promise<ManagedIdentityServer> {
  const server: ManagedIdentityServer = Object.assign(
    await listen((request, _body, response) => {
      server.requests++;
      const url = new URL(request.url ?? "/", "http://x");
      const imds = url.pathname === "/metadata/identity/oauth2/token";
      const allowed = imds
        ? request.headers.metadata === "true" && url.searchParams.get("api-version") === "2018-02-01"
        : url.pathname === "/msi/token" &&
          request.headers["x-identity-header"] === options.identityHeader &&
          url.searchParams.get("api-version") === "2019-08-01";
      const clientID = url.searchParams.get("client_id");
      if (!allowed || request.method !== "GET") {
        sendJson(response, 400, {
          error: "invalid_request",
          error_description: "Required metadata header not specified",
        });
      } else if (
        url.searchParams.get("resource") !== ACR_RESOURCE ||
        (clientID && clientID !== options.clientID)
      ) {
        sendJson(response, 400, { error: "invalid_request", error_description: "Identity not found" });
      } else {
        const lifetime = options.aad.lifetimeSeconds;
        sendJson(response, 200, {
          access_token: options.aad.issue(options.clientID),
          client_id: options.clientID,
          expires_in: String(lifetime),
          expires_on: String(now() + lifetime),
          resource: ACR_RESOURCE,
          token_type: "Bearer",
        });
      }
    }),
    { identityEndpoint: "", requests: 0 },
  );
  server.identityEndpoint = `${server.url}/msi/token`;
  return server;
}

export interface AcrRegistry extends Loopback {
  /** Refresh tokens issued, oldest first. */
  issued: string[];
  requests: number;
  lifetimeSeconds: number;
}

/** A registry whose login server is its loopback `host`, trusting tokens of `aad`'s tenant. */
export async function startAcrRegistry(options: {
  tls: TestTls;
  aad: Aad;
  lifetimeSeconds: number;
}): Promise<AcrRegistry> {
  const signing = rsaKeyPair();
  const unauthorized = { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] };
  const registry: AcrRegistry = Object.assign(
    await listen((request, body, response) => {
      registry.requests++;
      const form = request.url === "/oauth2/exchange" ? formOf(request, body) : undefined;
      if (form?.get("grant_type") !== "access_token" || form.get("service") !== registry.host) {
        sendJson(response, 400, { errors: [{ code: "UNSUPPORTED", message: "bad exchange request" }] });
        return;
      }
      const claims = options.aad.verify(form.get("access_token") ?? "");
      if (!claims || claims.aud !== ACR_RESOURCE || claims.tid !== form.get("tenant")) {
        sendJson(response, 401, unauthorized);
        return;
      }
      const token = signJwt(
        {
          jti: randomBytes(8).toString("hex"),
          sub: claims.appid,
          tenant: claims.tid,
          grant_type: "refresh_token",
          aud: registry.host,
          iat: now(),
          exp: now() + registry.lifetimeSeconds,
        },
        signing.privateKey,
      );
      registry.issued.push(token);
      sendJson(response, 200, { refresh_token: token });
    }, options.tls),
    { issued: [] as string[], requests: 0, lifetimeSeconds: options.lifetimeSeconds },
  );
  return registry;
}
