// RS256 JWTs for the loopback cloud servers: signing what a service issues, verifying what a client
// presents, as the real services do (header, signature, then claims).
import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";

export const rsaKeyPair = () => generateKeyPairSync("rsa", { modulusLength: 2048 });

export function signJwt(claims: object, privateKey: KeyObject, header: object = {}): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "RS256", typ: "JWT", ...header })}.${part(claims)}`;
  return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), privateKey).toString("base64url")}`;
}

export interface Decoded {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Header and claims without checking anything, to find the key to verify with. */
export function decodeJwt(token: string): Decoded | undefined {
  const [header, claims, signature] = token.split(".");
  if (header === undefined || claims === undefined || signature === undefined) return undefined;
  try {
    const json = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return { header: json(header) as Decoded["header"], claims: json(claims) as Decoded["claims"] };
  } catch {
    return undefined;
  }
}

/** True when `token` is an RS256 JWT signed by the private half of `publicKey`. */
export function rs256Valid(token: string, publicKey: KeyObject | string): boolean {
  const decoded = decodeJwt(token);
  if (decoded?.header.alg !== "RS256") return false;
  const cut = token.lastIndexOf(".");
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  return verify(
    "RSA-SHA256",
    Buffer.from(token.slice(0, cut)),
    key,
    Buffer.from(token.slice(cut + 1), "base64url"),
  );
}

/** Why the time claims are unacceptable at `now` (seconds), or undefined when `iat` <= now < `exp`. */
export function timeProblem(claims: Record<string, unknown>, now: number, maxLifetime: number, skew = 60) {
  const { iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number") return "iat and exp must be numbers";
  if (iat > now + skew) return "iat is in the future";
  if (exp <= now) return "the assertion has expired";
  if (exp - iat > maxLifetime) return `exp - iat exceeds ${maxLifetime} s`;
  return undefined;
}
