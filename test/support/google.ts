// Loopback stand-ins for Google's OAuth token endpoint and the GCE/GKE metadata server. The token
// endpoint checks what Google checks of a service-account JWT assertion (RFC 7523): the grant
// type, the RS256 signature against the service account's public key, `iss`, `aud`, `scope`, and
// the `iat`/`exp` window (at most an hour). Lifetimes are seconds, so tests see tokens expire.
import { type KeyObject, randomBytes } from "node:crypto";
import { decodeJwt, rs256Valid, rsaKeyPair, timeProblem } from "./jwt.ts";
import { formOf, listen, type Loopback, sendJson, type TestTls } from "./loopback.ts";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

export interface ServiceAccount {
  email: string;
  keyId: string;
  privateKey: KeyObject;
  /** The JSON key file as `gcloud iam service-accounts keys create` writes it. */
  keyFile: Record<string, string>;
  keyJson: string;
}

export interface GoogleTokenServer extends Loopback {
  /** The token endpoint URL, the assertion's expected `aud`. */
  tokenUrl: string;
  /** A service account whose public key the server knows, with its key file. */
  addServiceAccount(email: string): ServiceAccount;
  /** Access tokens issued, oldest first. */
  issued: string[];
  /** Every request, accepted or refused. */
  requests: number;
  /** `expires_in` of the next tokens. */
  lifetimeSeconds: number;
}

export async function startGoogleTokenServer(options: {
  tls: TestTls;
  scope: string;
  lifetimeSeconds: number;
}): Promise<GoogleTokenServer> {
  const publicKeys = new Map<string, { keyId: string; publicKey: string }>();
  const refuse = (status: number, error: string, description: string) => ({ status, error, description });
  const server: GoogleTokenServer = Object.assign(
    await listen((request, body, response) => {
      server.requests++;
      const outcome = grant(formOf(request, body));
      if ("error" in outcome) {
        sendJson(response, outcome.status, { error: outcome.error, error_description: outcome.description });
      } else {
        sendJson(response, 200, {
          access_token: outcome.token,
          expires_in: server.lifetimeSeconds,
          token_type: "Bearer",
        });
      }
    }, options.tls),
    {
      tokenUrl: "",
      issued: [] as string[],
      requests: 0,
      lifetimeSeconds: options.lifetimeSeconds,
      addServiceAccount(email: string): ServiceAccount {
        const { publicKey, privateKey } = rsaKeyPair();
        const keyId = randomBytes(20).toString("hex");
        publicKeys.set(email, {
          keyId,
          publicKey: publicKey.export({ type: "spki", format: "pem" }) as string,
        });
        const keyFile = {
          type: "service_account",
          project_id: "test-project",
          private_key_id: keyId,
          private_key: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
          client_email: email,
          client_id: "1234567890",
          auth_uri: "https://accounts.google.com/o/oauth2/auth",
          token_uri: "https://oauth2.googleapis.com/token",
        };
        return { email, keyId, privateKey, keyFile, keyJson: JSON.stringify(keyFile) };
      },
    },
  );
  server.tokenUrl = `${server.url}/token`;
  return server;

  function grant(form: URLSearchParams | undefined) {
    if (form?.get("grant_type") !== JWT_BEARER) {
      return refuse(400, "unsupported_grant_type", "Invalid grant_type");
    }
    const assertion = form.get("assertion") ?? "";
    const decoded = decodeJwt(assertion);
    const account = typeof decoded?.claims.iss === "string" ? publicKeys.get(decoded.claims.iss) : undefined;
    if (!decoded || !account) return refuse(400, "invalid_grant", "Invalid grant: account not found");
    if (decoded.header.kid !== undefined && decoded.header.kid !== account.keyId) {
      return refuse(400, "invalid_grant", "Invalid JWT Signature.");
    }
    if (!rs256Valid(assertion, account.publicKey))
      return refuse(400, "invalid_grant", "Invalid JWT Signature.");
    if (decoded.claims.aud !== server.tokenUrl) return refuse(400, "invalid_grant", "Invalid JWT: bad aud");
    const time = timeProblem(decoded.claims, Math.floor(Date.now() / 1000), 3600);
    if (time) return refuse(400, "invalid_grant", `Invalid JWT: ${time}`);
    if (decoded.claims.scope !== options.scope) return refuse(400, "invalid_scope", "Invalid OAuth scope");
    const token = `ya29.test-${randomBytes(24).toString("base64url")}`;
    server.issued.push(token);
    return { token };
  }
}

export interface MetadataServer extends Loopback {
  issued: string[];
  requests: number;
  lifetimeSeconds: number;
}

/**
 * The metadata server's default service account, over plain HTTP as the real one. Like it, it
 * refuses requests without `Metadata-Flavor: Google` or with `X-Forwarded-For` (a proxied request).
 */
export async function startMetadataServer(options: {
  email: string;
  lifetimeSeconds: number;
}): Promise<MetadataServer> {
  const base = "/computeMetadata/v1/instance/service-accounts/default";
  const server: MetadataServer = Object.assign(
    await listen((request, _body, response) => {
      server.requests++;
      const flavor = { "metadata-flavor": "Google" };
      if (request.headers["metadata-flavor"] !== "Google" || request.headers["x-forwarded-for"]) {
        response.writeHead(403, { "content-type": "text/plain", ...flavor }).end("Missing Metadata-Flavor");
      } else if (request.method === "GET" && request.url === `${base}/token`) {
        const token = `ya29.metadata-${randomBytes(24).toString("base64url")}`;
        server.issued.push(token);
        sendJson(
          response,
          200,
          { access_token: token, expires_in: server.lifetimeSeconds, token_type: "Bearer" },
          flavor,
        );
      } else if (request.method === "GET" && request.url === `${base}/email`) {
        response.writeHead(200, { "content-type": "application/text", ...flavor }).end(options.email);
      } else {
        response.writeHead(404, flavor).end();
      }
    }),
    { issued: [] as string[], requests: 0, lifetimeSeconds: options.lifetimeSeconds },
  );
  return server;
}
