// spec.gcp: an OAuth access token for Artifact Registry and Container Registry, written with the
// username `oauth2accesstoken`. With secretRef it is minted from a service-account JSON key: an
// RS256-signed JWT assertion (RFC 7523) posted to the token endpoint of the controller's flag,
// never to the key file's `token_uri`, which a tenant could point at a host of their choosing.
// Without secretRef it comes from the metadata server (GKE Workload Identity, or the node's
// service account on GCE).
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import type { GcpSpec, InputSecret, MintedCredential, ProviderInput } from "../provider.ts";
import { ProviderError } from "../provider.ts";
import { type Call, endpoint, send, sendForJson, secondsField, stringField } from "./http.ts";

/**
 * The read-only storage scope is enough to pull from Artifact Registry and Container Registry (it is
 * the scope GCE and GKE nodes pull with by default); cloud-platform would also let the token manage
 * every resource the service account may touch.
 */
export const GCP_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only";
export const GCP_USERNAME = "oauth2accesstoken";
/** `key.json` is what `gcloud iam service-accounts keys create` is usually given; `credentials.json` is ADC's. */
export const GCP_KEY_NAMES = ["key.json", "credentials.json"];
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Google accepts assertions valid for up to an hour; a short one is worth less if it leaks. */
const ASSERTION_SECONDS = 300;

interface AccessToken {
  token: string;
  expiresAt: Date;
  email: string;
}

export async function mintGcp(spec: GcpSpec, input: ProviderInput): Promise<MintedCredential> {
  const access = spec.secretRef
    ? await fromKey(serviceAccountKey(spec.secretRef, input.secret), input)
    : await fromMetadataServer(input);
  const entry = { username: GCP_USERNAME, password: access.token };
  return {
    auths: Object.fromEntries(spec.registries.map((registry) => [registry, entry])),
    expiresAt: access.expiresAt,
    identity: access.email,
  };
}

interface ServiceAccountKey {
  email: string;
  keyId: string | undefined;
  privateKey: KeyObject;
}

function serviceAccountKey(ref: NonNullable<GcpSpec["secretRef"]>, secret: InputSecret | undefined) {
  const field = "spec.gcp.secretRef";
  if (!secret) throw new ProviderError(`gcp: ${field}: Secret "${ref.name}" does not exist`, false);
  const name = ref.key ?? GCP_KEY_NAMES.find((k) => k in secret.data);
  const raw = name === undefined ? undefined : secret.data[name];
  if (name === undefined || raw === undefined) {
    const wanted = (ref.key ? [ref.key] : GCP_KEY_NAMES).map((k) => `"${k}"`).join(" or ");
    throw new ProviderError(
      `gcp: ${field}: Secret "${ref.name}" has no key ${wanted}; put the service-account JSON key there or name its key in ${field}.key`,
      false,
    );
  }
  const malformed = (what: string) =>
    new ProviderError(
      `gcp: ${field}: key "${name}" of Secret "${ref.name}" is not a service-account JSON key (${what}); create one with gcloud iam service-accounts keys create`,
      false,
    );
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
  } catch {
    // JSON.parse's message quotes the text, which is the private key.
    throw malformed("not JSON");
  }
  if (typeof json !== "object" || json === null) throw malformed("not a JSON object");
  if (json.type !== "service_account") throw malformed(`type is not "service_account"`);
  if (typeof json.client_email !== "string" || json.client_email === "") throw malformed("no client_email");
  if (typeof json.private_key !== "string") throw malformed("no private_key");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(json.private_key);
  } catch {
    throw malformed("private_key is not a PEM private key");
  }
  if (privateKey.asymmetricKeyType !== "rsa") throw malformed("private_key is not an RSA key");
  const keyId = typeof json.private_key_id === "string" ? json.private_key_id : undefined;
  return { email: json.client_email, keyId, privateKey } satisfies ServiceAccountKey;
}

async function fromKey(key: ServiceAccountKey, input: ProviderInput): Promise<AccessToken> {
  const issuedAt = input.now();
  const iat = Math.floor(issuedAt.getTime() / 1000);
  const claims = {
    iss: key.email,
    scope: GCP_SCOPE,
    aud: input.endpoints.gcpTokenUrl,
    iat,
    exp: iat + ASSERTION_SECONDS,
  };
  const call: Call = {
    provider: "gcp",
    method: "POST",
    url: new URL(input.endpoints.gcpTokenUrl),
    form: { grant_type: JWT_BEARER, assertion: signedJwt(claims, key) },
    signal: input.signal,
  };
  const body = await sendForJson(call);
  return {
    token: stringField(call, body, "access_token"),
    expiresAt: new Date(issuedAt.getTime() + secondsField(call, body, "expires_in") * 1000),
    email: key.email,
  };
}

function signedJwt(claims: object, key: ServiceAccountKey): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = { alg: "RS256", typ: "JWT", ...(key.keyId && { kid: key.keyId }) };
  const unsigned = `${part(header)}.${part(claims)}`;
  return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), key.privateKey).toString("base64url")}`;
}

async function fromMetadataServer(input: ProviderInput): Promise<AccessToken> {
  const host = input.env.GCE_METADATA_HOST || "metadata.google.internal";
  const base = `${host.includes("://") ? host : `http://${host}`}/computeMetadata/v1/instance/service-accounts/default`;
  const issuedAt = input.now();
  const call = (path: string): Call => ({
    provider: "gcp",
    method: "GET",
    url: new URL(`${base}/${path}`),
    headers: { "metadata-flavor": "Google" },
    signal: input.signal,
  });
  const tokenCall = call("token");
  const emailCall = call("email");
  const [body, email] = await Promise.all([
    fromMetadata(tokenCall, async (r) => {
      const json: unknown = await r.json();
      if (typeof json !== "object" || json === null) throw new TypeError("not a JSON object");
      return json as Record<string, unknown>;
    }),
    fromMetadata(emailCall, async (r) => (await r.text()).trim()),
  ]);
  return {
    token: stringField(tokenCall, body, "access_token"),
    expiresAt: new Date(issuedAt.getTime() + secondsField(tokenCall, body, "expires_in") * 1000),
    email,
  };
}

/** A metadata answer, only from a server that says it is one (as Google's client libraries check). */
async function fromMetadata<T>(call: Call, read: (response: Response) => Promise<T>): Promise<T> {
  const response = await send(call);
  if (response.headers.get("metadata-flavor") !== "Google") {
    await response.body?.cancel();
    throw new ProviderError(
      `gcp: ${endpoint(call)}: the answer lacks "Metadata-Flavor: Google"; is GCE_METADATA_HOST a metadata server?`,
      true,
    );
  }
  try {
    return await read(response);
  } catch {
    throw new ProviderError(`gcp: ${endpoint(call)}: unreadable answer`, true);
  }
}
