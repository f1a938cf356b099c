// ecr: an ECR authorization token (valid 12 hours, as ECR reports it in expiresAt), signed with
// static keys from a Secret (IMPS's banzaicloud.io/aws-ecr-login-config Secrets as they are) or
// the controller's own AWS identity, after sts:AssumeRole when a role is given. The registry key is
// the proxyEndpoint ECR returns. Endpoints: AWS_ENDPOINT_URL_ECR, else api.ecr.<region>.
import {
  assumeRole,
  type AwsIdentity,
  awsDomain,
  awsError,
  environmentIdentity,
  post,
} from "../aws/identity.ts";
import { signRequest } from "../aws/sigv4.ts";
import {
  type EcrSpec,
  type InputSecret,
  type MintedCredential,
  ProviderError,
  type ProviderInput,
} from "../provider.ts";

const TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";

export async function mintEcr(spec: EcrSpec, input: ProviderInput): Promise<MintedCredential> {
  const now = input.now();
  const base = spec.secretRef
    ? secretIdentity(spec.secretRef.name, input.secret)
    : await environmentIdentity(spec.region, input.env, input.signal, now);
  const roleArn = spec.roleARN ?? (spec.secretRef ? text(input.secret, "roleArn") : undefined);
  const { credentials, identity } = roleArn
    ? await assumeRole(base.credentials, roleArn, spec.region, input.env, input.signal, now)
    : base;
  const url = ecrEndpoint(spec.region, input.env);
  const body = "{}";
  const headers = signRequest({
    method: "POST",
    url,
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET },
    body,
    service: "ecr",
    region: spec.region,
    credentials,
    now,
  });
  const response = await post(url, headers, body, input.signal, "ECR GetAuthorizationToken");
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const code = typeof json.__type === "string" ? json.__type.split("#").at(-1) : undefined;
    const message = typeof json.message === "string" ? json.message : undefined;
    throw awsError("ECR GetAuthorizationToken", url, response.status, code, message);
  }
  return { ...authorization(json, url), identity };
}

export function ecrEndpoint(region: string, env: NodeJS.ProcessEnv): URL {
  return new URL(
    env.AWS_ENDPOINT_URL_ECR || env.AWS_ENDPOINT_URL || `https://api.ecr.${region}.${awsDomain(region)}`,
  );
}

function authorization(json: Record<string, unknown>, url: URL): Omit<MintedCredential, "identity"> {
  const data = Array.isArray(json.authorizationData)
    ? (json.authorizationData as Record<string, unknown>[])
    : [];
  const [entry] = data;
  const token =
    typeof entry?.authorizationToken === "string"
      ? Buffer.from(entry.authorizationToken, "base64").toString("utf8")
      : "";
  const colon = token.indexOf(":");
  const proxy =
    typeof entry?.proxyEndpoint === "string"
      ? entry.proxyEndpoint.replace(/^https?:\/\//, "").replace(/\/+$/, "")
      : "";
  if (data.length !== 1 || colon <= 0 || proxy === "" || typeof entry?.expiresAt !== "number")
    throw new ProviderError(
      `ECR GetAuthorizationToken at ${url.host}: expected one authorizationData entry with a token, a proxyEndpoint and expiresAt`,
      true,
    );
  return {
    auths: { [proxy]: { username: token.slice(0, colon), password: token.slice(colon + 1) } },
    expiresAt: new Date(entry.expiresAt * 1000),
  };
}

function secretIdentity(name: string, secret: InputSecret | undefined): AwsIdentity {
  const accessKeyId = text(secret, "accessKeyID");
  const secretAccessKey = text(secret, "secretKey");
  if (!accessKeyId || !secretAccessKey)
    throw new ProviderError(`Secret ${name} needs the keys accessKeyID and secretKey`, false);
  return { credentials: { accessKeyId, secretAccessKey }, identity: `access key ${accessKeyId}` };
}

const text = (secret: InputSecret | undefined, key: string): string | undefined => {
  const value = secret?.data[key]?.toString("utf8").trim();
  return value ? value : undefined;
};
