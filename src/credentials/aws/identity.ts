// The AWS identity an ECR call is signed with, found as the AWS SDKs find it, limited to what a
// controller in a cluster uses: static keys from a Secret, or the controller's environment (static
// keys, then IRSA's web identity token, then EKS Pod Identity), optionally followed by
// sts:AssumeRole. Endpoints: AWS_ENDPOINT_URL_STS, else the regional STS endpoint.
import { readFile } from "node:fs/promises";
import { ProviderError } from "../provider.ts";
import { type AwsCredentials, signRequest } from "./sigv4.ts";

export interface AwsIdentity {
  credentials: AwsCredentials;
  /** Role ARN or access key ID: never a secret. */
  identity: string;
}

const SESSION_NAME = "secret-export-controller";
const STS_VERSION = "2011-06-15";

export const awsDomain = (region: string): string =>
  region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";

export function stsEndpoint(region: string, env: NodeJS.ProcessEnv): URL {
  return new URL(
    env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || `https://sts.${region}.${awsDomain(region)}`,
  );
}

/** Static keys from the environment, else IRSA, else Pod Identity. */
export async function environmentIdentity(
  region: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  now: Date,
): Promise<AwsIdentity> {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
    return { credentials, identity: `access key ${env.AWS_ACCESS_KEY_ID}` };
  }
  if (env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE) {
    const token = (
      await readFile(env.AWS_WEB_IDENTITY_TOKEN_FILE, "utf8").catch(() => {
        throw new ProviderError(
          `cannot read AWS_WEB_IDENTITY_TOKEN_FILE ${env.AWS_WEB_IDENTITY_TOKEN_FILE}`,
          true,
        );
      })
    ).trim();
    const form = {
      Action: "AssumeRoleWithWebIdentity",
      RoleArn: env.AWS_ROLE_ARN,
      RoleSessionName: env.AWS_ROLE_SESSION_NAME || SESSION_NAME,
      WebIdentityToken: token,
    };
    return sts("AssumeRoleWithWebIdentity", stsEndpoint(region, env), form, undefined, region, signal, now);
  }
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return podIdentity(env, signal);
  throw new ProviderError(
    "no AWS identity: the controller's environment has neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, nor AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE (IRSA), nor AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity); or give spec.ecr.secretRef",
    false,
  );
}

/** sts:AssumeRole, signed with `base`. */
export function assumeRole(
  base: AwsCredentials,
  roleArn: string,
  region: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  now: Date,
): Promise<AwsIdentity> {
  const form = { Action: "AssumeRole", RoleArn: roleArn, RoleSessionName: SESSION_NAME };
  return sts("AssumeRole", stsEndpoint(region, env), form, base, region, signal, now);
}

async function sts(
  action: string,
  url: URL,
  form: Record<string, string>,
  signWith: AwsCredentials | undefined,
  region: string,
  signal: AbortSignal,
  now: Date,
): Promise<AwsIdentity> {
  const body = new URLSearchParams({ ...form, Version: STS_VERSION }).toString();
  const headers = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
  const signed = signWith
    ? signRequest({ method: "POST", url, headers, body, service: "sts", region, credentials: signWith, now })
    : headers;
  const response = await post(url, signed, body, signal, `STS ${action}`);
  const text = await response.text();
  if (!response.ok)
    throw awsError(`STS ${action}`, url, response.status, xmlField(text, "Code"), xmlField(text, "Message"));
  const accessKeyId = xmlField(text, "AccessKeyId");
  const secretAccessKey = xmlField(text, "SecretAccessKey");
  const sessionToken = xmlField(text, "SessionToken");
  if (!accessKeyId || !secretAccessKey || !sessionToken)
    throw new ProviderError(`STS ${action} at ${url.host}: the response has no Credentials`, true);
  return {
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    identity: xmlField(text, "Arn") ?? form.RoleArn ?? "",
  };
}

const POD_IDENTITY_HOSTS = new Set(["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"]);

async function podIdentity(env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<AwsIdentity> {
  const url = new URL(env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "");
  const loopback = /^127\.|^\[::1\]$|^localhost$/.test(url.hostname);
  if (url.protocol !== "https:" && !loopback && !POD_IDENTITY_HOSTS.has(url.hostname))
    throw new ProviderError(
      `AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, loopback or the EKS Pod Identity agent`,
      false,
    );
  const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  const token = file ? (await readFile(file, "utf8")).trim() : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  const response = await fetch(url, { headers: token ? { authorization: token } : {}, signal }).catch(
    (err: unknown) => {
      throw unreachable("EKS Pod Identity", url, err);
    },
  );
  if (!response.ok) throw awsError("EKS Pod Identity", url, response.status, undefined, undefined);
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const { AccessKeyId, SecretAccessKey, Token } = body;
  if (typeof AccessKeyId !== "string" || typeof SecretAccessKey !== "string" || typeof Token !== "string")
    throw new ProviderError(`EKS Pod Identity at ${url.host}: the response has no credentials`, true);
  return {
    credentials: { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: Token },
    identity: `pod identity ${AccessKeyId}`,
  };
}

export async function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  what: string,
): Promise<Response> {
  // host is set by fetch itself; passing it again is refused.
  const { host: _host, ...sent } = headers;
  return fetch(url, { method: "POST", headers: sent, body, signal, redirect: "error" }).catch(
    (err: unknown) => {
      throw unreachable(what, url, err);
    },
  );
}

function unreachable(what: string, url: URL, err: unknown): ProviderError {
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
  return new ProviderError(`${what} at ${url.host}: ${cause}`, true);
}

/** Names what failed: the call, the host, the HTTP status and AWS's error code and message. */
export function awsError(
  what: string,
  url: URL,
  status: number,
  code?: string,
  message?: string,
): ProviderError {
  const detail = [code, message?.slice(0, 300)].filter(Boolean).join(": ");
  return new ProviderError(`${what} at ${url.host}: HTTP ${status}${detail ? ` ${detail}` : ""}`, true);
}

function xmlField(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1]?.replace(/&lt;|&gt;|&quot;|&apos;|&amp;/g, (e) => XML_ENTITIES[e] ?? e);
}
const XML_ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&apos;": "'",
  "&amp;": "&",
};
