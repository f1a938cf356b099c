// The ecr provider against a loopback AWS that verifies SigV4 (test/support/aws-fake.ts), reached
// only through the documented endpoint variables.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ProviderError, type ProviderInput } from "../../src/credentials/provider.ts";
import { ecrEndpoint, mintEcr } from "../../src/credentials/providers/ecr.ts";
import {
  ACCOUNT,
  type AwsFake,
  POD_IDENTITY_TOKEN,
  ROLE_ARN,
  startAwsFake,
  WEB_IDENTITY_TOKEN,
} from "../support/aws-fake.ts";

let fake: AwsFake;
let dir: string;
before(async () => {
  fake = await startAwsFake(12 * 3600);
  dir = await mkdtemp(join(tmpdir(), "ecr-test-"));
});
after(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const endpoints = () => ({ AWS_ENDPOINT_URL_ECR: fake.url, AWS_ENDPOINT_URL_STS: fake.url });
const input = (env: NodeJS.ProcessEnv, data?: Record<string, string>): ProviderInput => ({
  env: { ...endpoints(), ...env },
  ...(data
    ? {
        secret: {
          type: "banzaicloud.io/aws-ecr-login-config",
          data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])),
        },
      }
    : {}),
  endpoints: { gcpTokenUrl: "https://oauth2.googleapis.com/token", acrRegistrySuffixes: [".azurecr.io"] },
  signal: AbortSignal.timeout(10_000),
  now: () => new Date(),
});
// An IMPS Secret as IMPS users have it.
const imps = () => ({
  accessKeyID: fake.key.accessKeyId,
  secretKey: fake.key.secretAccessKey,
  region: "eu-west-1",
  accountID: ACCOUNT,
});
const registry = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;

test("ecr: an IMPS Secret's static keys get a token keyed by proxyEndpoint, with ECR's expiresAt", async () => {
  const started = Date.now();
  const minted = await mintEcr({ region: "eu-west-1", secretRef: { name: "imps" } }, input({}, imps()));
  assert.deepEqual(Object.keys(minted.auths), [registry]);
  assert.equal(minted.auths[registry]?.username, "AWS");
  assert.match(minted.auths[registry]?.password ?? "", /^ecr-password-\d+-never-logged$/);
  const lifetime = (minted.expiresAt?.getTime() ?? 0) - started;
  assert.ok(Math.abs(lifetime - 12 * 3600_000) < 60_000, `${lifetime}`);
  assert.equal(minted.identity, `access key ${fake.key.accessKeyId}`);
  const { at: _at, ...call } = fake.calls.at(-1) ?? {};
  assert.deepEqual(call, { action: "GetAuthorizationToken", accessKeyId: fake.key.accessKeyId, ok: true });
});

test("ecr: a wrong secret key is refused by the signature check, and the error names no secret", async () => {
  const wrong = { ...imps(), secretKey: "wrong-secret-key-never-logged" };
  await assert.rejects(
    mintEcr({ region: "eu-west-1", secretRef: { name: "imps" } }, input({}, wrong)),
    (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.match(
        err.message,
        /^ECR GetAuthorizationToken at 127\.0\.0\.1:\d+: HTTP 403 InvalidSignatureException/,
      );
      assert.doesNotMatch(err.message, /never-logged/);
      return true;
    },
  );
  assert.equal(fake.calls.at(-1)?.ok, false);
});

test("ecr: the IMPS Secret's roleArn is assumed first, and ECR is signed with the session credentials", async () => {
  const minted = await mintEcr(
    { region: "eu-west-1", secretRef: { name: "imps" } },
    input({}, { ...imps(), roleArn: ROLE_ARN }),
  );
  const [assume, ecr] = fake.calls.slice(-2);
  assert.deepEqual(
    [assume?.action, assume?.accessKeyId, assume?.ok],
    ["AssumeRole", fake.key.accessKeyId, true],
  );
  assert.match(ecr?.accessKeyId ?? "", /^ASIATEMP/);
  assert.equal(ecr?.ok, true);
  assert.equal(minted.identity, `arn:aws:sts::${ACCOUNT}:assumed-role/ecr-pull/secret-export-controller`);
});

test("ecr: with no secretRef, IRSA's AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE", async () => {
  const tokenFile = join(dir, "token");
  await writeFile(tokenFile, WEB_IDENTITY_TOKEN);
  const minted = await mintEcr(
    { region: "eu-west-1" },
    input({ AWS_ROLE_ARN: ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile }),
  );
  assert.deepEqual(Object.keys(minted.auths), [registry]);
  assert.deepEqual([fake.calls.at(-2)?.action, fake.calls.at(-2)?.ok], ["AssumeRoleWithWebIdentity", true]);
});

test("ecr: with no secretRef, EKS Pod Identity's AWS_CONTAINER_CREDENTIALS_FULL_URI and token file", async () => {
  const tokenFile = join(dir, "pod-token");
  await writeFile(tokenFile, POD_IDENTITY_TOKEN);
  const env = {
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${fake.url}/pod-identity`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
  };
  const minted = await mintEcr({ region: "us-east-1" }, input(env));
  assert.deepEqual(Object.keys(minted.auths), [`${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`]);
  assert.deepEqual([fake.calls.at(-2)?.action, fake.calls.at(-2)?.ok], ["PodIdentity", true]);
  assert.equal(fake.calls.at(-1)?.ok, true);
});

test("ecr: with no secretRef, static keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then spec.roleARN", async () => {
  const env = { AWS_ACCESS_KEY_ID: fake.key.accessKeyId, AWS_SECRET_ACCESS_KEY: fake.key.secretAccessKey };
  const minted = await mintEcr({ region: "eu-west-1", roleARN: ROLE_ARN }, input(env));
  assert.equal(fake.calls.at(-2)?.action, "AssumeRole");
  assert.match(minted.identity ?? "", /assumed-role\/ecr-pull/);
});

test("ecr: no identity at all is a refusal that retrying cannot fix, naming what to set", async () => {
  await assert.rejects(mintEcr({ region: "eu-west-1" }, input({})), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE/);
    return true;
  });
});

test("ecr: an IMPS Secret without secretKey names the missing keys", async () => {
  const { secretKey: _omitted, ...partial } = imps();
  await assert.rejects(
    mintEcr({ region: "eu-west-1", secretRef: { name: "imps" } }, input({}, partial)),
    /Secret imps needs the keys accessKeyID and secretKey/,
  );
});

test("ecr: the endpoint is AWS's regional one unless AWS_ENDPOINT_URL_ECR says otherwise", () => {
  assert.equal(ecrEndpoint("eu-west-1", {}).href, "https://api.ecr.eu-west-1.amazonaws.com/");
  assert.equal(ecrEndpoint("cn-north-1", {}).href, "https://api.ecr.cn-north-1.amazonaws.com.cn/");
  assert.equal(
    ecrEndpoint("eu-west-1", { AWS_ENDPOINT_URL_ECR: "https://vpce.example/" }).href,
    "https://vpce.example/",
  );
});
