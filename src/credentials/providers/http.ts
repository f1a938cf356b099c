// The few HTTP calls the cloud providers make. A failure becomes a ProviderError naming the
// endpoint, the HTTP status and the service's error code; request and response bodies never appear
// in it (they hold assertions, secrets and tokens, and an error body may echo them).
import { ProviderError } from "../provider.ts";

/** OAuth error codes that mean the credentials or the grant were refused: retrying cannot help. */
const REFUSED = new Set(["invalid_client", "invalid_grant", "unauthorized_client"]);
/** An error code is shown only when it looks like one, so a body is never echoed through it. */
const CODE = /^[A-Za-z0-9_.:-]{1,80}$/;

export interface Call {
  provider: string;
  method: "GET" | "POST";
  url: URL;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  signal: AbortSignal;
}

/** `POST https://host/path` without the query (which may carry a client ID, never needed in errors). */
export const endpoint = (call: Call) => `${call.method} ${call.url.origin}${call.url.pathname}`;

/** The response of a call that answered 2xx. */
export async function send(call: Call): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method,
      headers: {
        accept: "application/json",
        ...(call.form && { "content-type": "application/x-www-form-urlencoded" }),
        ...call.headers,
      },
      body: call.form && new URLSearchParams(call.form).toString(),
      // A redirect would resend a signed assertion or a secret to a host nobody configured.
      redirect: "error",
      signal: call.signal,
    });
  } catch (err) {
    if (call.signal.aborted) throw err;
    throw new ProviderError(`${call.provider}: ${endpoint(call)}: ${networkReason(err)}`, true);
  }
  if (!response.ok) throw await refusal(call, response);
  return response;
}

/** The JSON object a call answered with. */
export async function sendForJson(call: Call): Promise<Record<string, unknown>> {
  const response = await send(call);
  const body: unknown = await response.json().catch(() => undefined);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ProviderError(`${call.provider}: ${endpoint(call)}: the answer is not a JSON object`, true);
  }
  return body as Record<string, unknown>;
}

export function stringField(call: Call, body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value === "") {
    throw new ProviderError(`${call.provider}: ${endpoint(call)}: the answer has no ${name}`, true);
  }
  return value;
}

/** A lifetime in seconds as OAuth servers send it: a number, or a numeric string (Azure IMDS). */
export function secondsField(call: Call, body: Record<string, unknown>, name: string): number {
  const value = Number(body[name]);
  if (typeof body[name] === "boolean" || !Number.isFinite(value) || value <= 0) {
    throw new ProviderError(
      `${call.provider}: ${endpoint(call)}: the answer has no positive ${name}; the lifetime is never assumed`,
      true,
    );
  }
  return value;
}

/** The claims of a JWT, unverified: for reading the lifetime of a token the service just issued. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function refusal(call: Call, response: Response): Promise<ProviderError> {
  const body: unknown = await response.json().catch(() => undefined);
  const { error, error_codes, errors } = (typeof body === "object" && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  // OAuth's `error`, or the registry API's `errors[0].code`; Entra adds an AADSTS number.
  const code = typeof error === "string" ? error : (first(errors) as { code?: unknown } | undefined)?.code;
  const known = typeof code === "string" && CODE.test(code) ? code : undefined;
  const aadsts = first(error_codes);
  const shown = (known ? ` ${known}` : "") + (Number.isInteger(aadsts) ? ` (AADSTS${String(aadsts)})` : "");
  return new ProviderError(
    `${call.provider}: ${endpoint(call)}: HTTP ${response.status}${shown}`,
    !(known && REFUSED.has(known)),
  );
}

const first = (list: unknown): unknown => (Array.isArray(list) ? (list[0] as unknown) : undefined);

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return `unreachable (${cause.code})`;
  if (cause?.message === "unexpected redirect") return "answered with a redirect, which is never followed";
  return "unreachable";
}
