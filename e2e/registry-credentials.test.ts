// RegistryCredential (SPEC §9) on the real control plane: basicAuth and a kubelet credential
// provider plugin through a SecretExport into placeholders; ECR against a loopback AWS that
// verifies SigV4 (test/support/aws-fake.ts), reached only through AWS_ENDPOINT_URL_ECR/_STS, with
// lifetimes of seconds so refresh, jitter, backoff, expiry, keep-last-good and no-mint-after-
// restart happen in real time. Each test runs its own controller (as its ServiceAccount) with its
// own log, and ends by grepping that log, the Events and the statuses for every secret it used.
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, type TestContext, test } from "node:test";
import { pino } from "pino";
import type { RegistryCredentialStatus } from "../src/api/schemas.ts";
import { METRIC_RECONCILE_TOTAL, OWN_API_VERSION } from "../src/constants.ts";
import { DEFAULT_CLOUD_ENDPOINTS } from "../src/config.ts";
import { createController } from "../src/controller/controller.ts";
import type { CredentialSettings } from "../src/controller/registry-credentials.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import type { KubeObject } from "../src/runtime/kube-http.ts";
import { ACCOUNT, type AwsFake, startAwsFake } from "../test/support/aws-fake.ts";
import { writeTestPlugin } from "../test/support/test-plugin.ts";
import { eventually, readUntil, testNamespace, uniqueName } from "./support/cluster.ts";
import { installCrds } from "./support/controller.ts";
import { rawClient } from "./support/faults.ts";
import { createExport, createPlaceholder, cred, expectAuths, readPlaceholder } from "./support/fixtures.ts";
import { controllerKubeConfig } from "./support/rbac.ts";
import { quiescent } from "./support/sharing.ts";

const http = rawClient();
const root = resolve(import.meta.dirname, "..");
const credentialsPath = (ns: string, name = "") =>
  `/apis/${OWN_API_VERSION}/namespaces/${ns}/registrycredentials${name ? `/${name}` : ""}`;
const secretPath = (ns: string, name = "") => `/api/v1/namespaces/${ns}/secrets${name ? `/${name}` : ""}`;
const b64 = (text: string) => Buffer.from(text).toString("base64");
// Tests here run at lifetimes of seconds: no margin, so the fraction alone decides.
const FAST = { lifetimeFraction: 0.5, marginSeconds: 0 };

before(() => installCrds());

/** A controller for this test only, with its own log file; stopped when the test ends. */
async function startController(t: TestContext, settings: Partial<CredentialSettings> = {}) {
  const logPath = join(root, ".run", `e2e-${uniqueName("regcred")}.log`);
  await mkdir(join(root, ".run"), { recursive: true });
  const metrics = createMetrics("e2e");
  const controller = createController({
    kubeConfig: await controllerKubeConfig(),
    log: pino({ level: "debug" }, pino.destination({ dest: logPath, sync: true })),
    concurrency: 4,
    qps: 0,
    burst: 1,
    resyncPeriodMs: 600_000,
    instance: "e2e",
    metrics,
    credentials: { endpoints: DEFAULT_CLOUD_ENDPOINTS, env: {}, ...settings },
  });
  await controller.startCaches();
  controller.startReconciling();
  let stopped = false;
  const stop = async () => {
    if (!stopped) await controller.stop();
    stopped = true;
  };
  t.after(stop);
  return { controller, metrics, logPath, stop };
}

async function createCredential(namespace: string, name: string, spec: Record<string, unknown>) {
  await http.request(credentialsPath(namespace), {
    method: "POST",
    body: { apiVersion: OWN_API_VERSION, kind: "RegistryCredential", metadata: { name }, spec },
  });
}

async function createSecret(namespace: string, name: string, type: string, values: Record<string, string>) {
  const data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)]));
  await http.request(secretPath(namespace), { method: "POST", body: { metadata: { name }, type, data } });
}

interface Credential extends KubeObject {
  metadata: { uid: string; generation: number };
  status?: RegistryCredentialStatus;
}
const readCredential = (ns: string, name: string) => http.request<Credential>(credentialsPath(ns, name));
const ready = (c: Credential) => c.status?.conditions?.find((x) => x.type === "Ready");

function expectCredential(
  ns: string,
  name: string,
  what: string,
  check: (c: Credential) => boolean,
  timeoutMs = 30_000,
) {
  return readUntil(
    `RegistryCredential ${ns}/${name} ${what}`,
    () => readCredential(ns, name),
    check,
    (last) => `last status ${JSON.stringify(last?.status)}`,
    timeoutMs,
  );
}
const expectReason = (ns: string, name: string, reason: string, timeoutMs?: number) =>
  expectCredential(ns, name, `Ready reason ${reason}`, (c) => ready(c)?.reason === reason, timeoutMs);

async function eventsOf(
  namespace: string,
): Promise<{ reason: string; type: string; message: string; involvedObject: { kind: string } }[]> {
  const list = await http.request<{ items: never[] }>(`/api/v1/namespaces/${namespace}/events`);
  return list.items;
}

/** No secret string in the controller's log, the Events or the RegistryCredential statuses. */
async function assertNothingLeaked(logPath: string, namespaces: string[], secrets: string[]) {
  const log = await readFile(logPath, "utf8");
  assert.ok(log.length > 0, "the controller logged");
  const seen = [log];
  for (const ns of namespaces) {
    seen.push(JSON.stringify(await eventsOf(ns)));
    seen.push(JSON.stringify(await http.request(credentialsPath(ns))));
  }
  const all = seen.join("\n");
  for (const secret of secrets)
    assert.ok(!all.includes(secret), `a secret of this test appears in logs, Events or status`);
  // Base64 of a password (as in an auth field) is a leak too.
  for (const secret of secrets)
    assert.ok(!all.includes(b64(secret)), `a base64 secret appears in logs, Events or status`);
}

/** The Secret the RegistryCredential fills. */
const readOutput = (ns: string, name: string) =>
  http.request<KubeObject & { data?: Record<string, string>; type?: string }>(secretPath(ns, name));

test("basicAuth: a SecretExport of the RegistryCredential's Secret fills placeholders, and rotating the input reaches them", async (t) => {
  const { logPath } = await startController(t);
  const source = await testNamespace(t, "regcred-src");
  const apps = [await testNamespace(t, "regcred-app"), await testNamespace(t, "regcred-app")];
  const [first = "", second = ""] = [
    uniqueName("basic-pw-never-logged"),
    uniqueName("basic-pw-never-logged"),
  ];
  await createSecret(source, "login", "Opaque", { username: "robot", password: first });
  await createCredential(source, "pull", {
    registries: ["basic.registry.test"],
    basicAuth: { secretRef: { name: "login" } },
  });
  await createExport(t, source, "pull", { toNamespaces: apps });
  for (const app of apps) await createPlaceholder(app);

  for (const app of apps) await expectAuths(app, { "basic.registry.test": cred("robot", first) });
  const credential = await expectReason(source, "pull", "Refreshed");
  assert.equal(ready(credential)?.status, "True");
  assert.deepEqual(
    {
      provider: credential.status?.provider,
      registries: credential.status?.registries,
      identity: credential.status?.identity,
      failures: credential.status?.consecutiveFailures,
      generation: credential.status?.observedGeneration,
      expiresAt: credential.status?.expiresAt,
    },
    {
      provider: "basicAuth",
      registries: ["basic.registry.test"],
      identity: "Secret login",
      failures: 0,
      generation: credential.metadata.generation,
      expiresAt: undefined,
    },
  );
  const output = await readOutput(source, "pull");
  assert.equal(output.type, "kubernetes.io/dockerconfigjson");
  assert.deepEqual(output.metadata?.ownerReferences, [
    {
      apiVersion: OWN_API_VERSION,
      kind: "RegistryCredential",
      name: "pull",
      uid: credential.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  const annotations = output.metadata?.annotations as Record<string, string>;
  assert.ok(annotations["secret-export.dev/refreshed-at"]);
  assert.equal(annotations["secret-export.dev/expires-at"], undefined);

  const rotated = Date.now();
  await http.request(secretPath(source, "login"), {
    method: "PATCH",
    body: { data: { password: b64(second) } },
    contentType: "application/merge-patch+json",
  });
  for (const app of apps)
    await expectAuths(app, { "basic.registry.test": cred("robot", second) }, "pull", 30_000);
  t.diagnostic(`basicAuth rotation reached ${apps.length} placeholders in ${Date.now() - rotated} ms`);
  const events = (await eventsOf(source)).filter((e) => e.involvedObject.kind === "RegistryCredential");
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.reason}`),
    ["Normal Refreshed"],
  );
  await assertNothingLeaked(logPath, [source, ...apps], [first, second]);
});

test("a Secret of the same name that the RegistryCredential does not own is never touched: SecretExists", async (t) => {
  const { controller } = await startController(t);
  const ns = await testNamespace(t, "regcred-exists");
  await createSecret(ns, "login", "Opaque", { username: "robot", password: "unused-never-logged" });
  await createSecret(ns, "pull", "kubernetes.io/dockerconfigjson", {
    ".dockerconfigjson": '{"auths":{"mine.test":{"auth":"bWluZTptaW5l"}}}',
  });
  const before = await readOutput(ns, "pull");
  await createCredential(ns, "pull", {
    registries: ["basic.registry.test"],
    basicAuth: { secretRef: { name: "login" } },
  });
  const credential = await expectReason(ns, "pull", "SecretExists");
  assert.match(
    ready(credential)?.message ?? "",
    /A Secret pull exists in .* and is not this RegistryCredential's: it is left alone/,
  );
  await quiescent(controller);
  const after = await readOutput(ns, "pull");
  assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
  // The Event follows the status write.
  await eventually("a SecretExists warning", async () =>
    (await eventsOf(ns)).some((e) => e.reason === "SecretExists" && e.type === "Warning") ? true : undefined,
  );
});

test("a missing input Secret is SecretNotFound, and creating it fills the Secret", async (t) => {
  await startController(t);
  const ns = await testNamespace(t, "regcred-missing");
  await createCredential(ns, "pull", {
    registries: ["basic.registry.test"],
    basicAuth: { secretRef: { name: "login", field: "auth" } },
  });
  const missing = await expectReason(ns, "pull", "SecretNotFound");
  assert.match(
    ready(missing)?.message ?? "",
    /The Secret login named by spec\.basicAuth\.secretRef\.name does not exist/,
  );
  await createSecret(ns, "login", "Opaque", { auth: "robot:field-pw-never-logged" });
  await expectReason(ns, "pull", "Refreshed");
  const output = await readOutput(ns, "pull");
  const config = JSON.parse(
    Buffer.from(output.data?.[".dockerconfigjson"] ?? "", "base64").toString(),
  ) as unknown;
  assert.deepEqual(config, { auths: { "basic.registry.test": cred("robot", "field-pw-never-logged") } });
});

test("exec: a kubelet credential provider plugin fills placeholders and is run again at half its cacheDuration", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "regcred-exec-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const password = uniqueName("plugin-pw-never-logged");
  const runs = join(dir, "runs");
  await writeTestPlugin(join(dir, "bin"), "test-plugin");
  await writeFile(
    join(dir, "config.yaml"),
    JSON.stringify({
      apiVersion: "kubelet.config.k8s.io/v1",
      kind: "CredentialProviderConfig",
      providers: [
        {
          name: "test-plugin",
          matchImages: ["*.plugin.test"],
          apiVersion: "credentialprovider.kubelet.k8s.io/v1",
          env: [
            { name: "TEST_PLUGIN_PASSWORD", value: password },
            { name: "TEST_PLUGIN_CACHE", value: "6s" },
            { name: "TEST_PLUGIN_COUNT_FILE", value: runs },
          ],
        },
      ],
    }),
  );
  await appendFile(runs, "");
  const { logPath } = await startController(t, {
    plugins: { configPath: join(dir, "config.yaml"), binDir: join(dir, "bin") },
    env: { PATH: process.env.PATH },
  });
  const source = await testNamespace(t, "regcred-src");
  const app = await testNamespace(t, "regcred-app");
  await createCredential(source, "pull", { exec: { image: "eu.plugin.test/team/app:1" }, refresh: FAST });
  await createExport(t, source, "pull", { toNamespace: app });
  await createPlaceholder(app);
  await expectAuths(app, { "eu.plugin.test": cred("plugin-user", password) });
  const started = Date.now();
  await eventually(
    "the plugin ran four times",
    async () => ((await readFile(runs, "utf8")).length >= 4 ? true : undefined),
    60_000,
  );
  const elapsed = Date.now() - started;
  const credential = await expectReason(source, "pull", "Refreshed");
  assert.equal(credential.status?.identity, "plugin test-plugin");
  // Three refreshes of a 6 s credential at half its lifetime (±10 %, whole seconds): 3 × 2-4 s.
  t.diagnostic(`exec: 3 refreshes of a 6 s credential took ${elapsed} ms`);
  assert.ok(elapsed > 3 * 1500 && elapsed < 3 * 6000, `${elapsed} ms for three refreshes`);
  await assertNothingLeaked(logPath, [source, app], [password]);
});

async function ecrSetup(t: TestContext, fake: AwsFake, refresh: Record<string, number> = FAST) {
  const started = await startController(t, {
    env: { AWS_ENDPOINT_URL_ECR: fake.url, AWS_ENDPOINT_URL_STS: fake.url },
  });
  const source = await testNamespace(t, "regcred-ecr");
  const app = await testNamespace(t, "regcred-app");
  // An IMPS Secret exactly as IMPS users have it.
  await createSecret(source, "imps", "banzaicloud.io/aws-ecr-login-config", {
    accessKeyID: fake.key.accessKeyId,
    secretKey: fake.key.secretAccessKey,
    region: "eu-west-1",
    accountID: ACCOUNT,
  });
  await createCredential(source, "ecr", {
    ecr: { region: "eu-west-1", secretRef: { name: "imps" } },
    refresh,
  });
  const other = await testNamespace(t, "regcred-app");
  await createExport(t, source, "ecr", { toNamespaces: [app, other] });
  await createPlaceholder(app);
  await createPlaceholder(other);
  return { ...started, source, app, other };
}

const REGISTRY = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
// Only this test's calls: another test's RegistryCredential in a namespace still being deleted
// may call this fake too, with its own fake's key, and is refused.
const ownCalls = (fake: AwsFake) => fake.calls.filter((c) => c.accessKeyId === fake.key.accessKeyId);
const okCalls = (fake: AwsFake) => ownCalls(fake).filter((c) => c.action === "GetAuthorizationToken" && c.ok);

test("ecr: refreshed at half the reported lifetime, within the jitter bounds, before each credential expires", async (t) => {
  const fake = await startAwsFake(8);
  t.after(() => fake.close());
  const { source, app, logPath } = await ecrSetup(t, fake);
  await eventually(
    "four ECR tokens minted",
    async () => (okCalls(fake).length >= 4 ? true : undefined),
    60_000,
  );
  const times = okCalls(fake).map((c) => c.at);
  const intervals = times.slice(1).map((at, i) => at - (times[i] ?? 0));
  t.diagnostic(`ecr: refresh intervals for an 8 s lifetime: ${intervals.join(", ")} ms`);
  // 4 s ± 10 % jitter, planned from whole seconds (up to 1 s earlier), and never at expiry.
  for (const interval of intervals)
    assert.ok(interval >= 2_600 && interval < 8_000, `interval ${interval} ms`);
  const placeholder = await readPlaceholder(app);
  assert.equal(placeholder.auths?.[REGISTRY]?.username, "AWS");
  const credential = await expectReason(source, "ecr", "Refreshed");
  const expires = Date.parse(credential.status?.expiresAt ?? "");
  const next = Date.parse(credential.status?.nextRefreshTime ?? "");
  assert.ok(next < expires, "the next refresh is planned before expiry");
  assert.equal(credential.status?.identity, `access key ${fake.key.accessKeyId}`);
  await assertNothingLeaked(logPath, [source, app], [...fake.secrets, fake.key.secretAccessKey]);
});

test("ecr: a failing refresh keeps the last credential, backs off, turns CredentialExpired, and recovers", async (t) => {
  const fake = await startAwsFake(8);
  t.after(() => fake.close());
  const { source, app, logPath } = await ecrSetup(t, fake);
  await expectReason(source, "ecr", "Refreshed");
  const good = await readOutput(source, "ecr");
  const placeholderBefore = await readPlaceholder(app);
  fake.failing = true;
  const failedFrom = ownCalls(fake).length;
  const failed = await expectReason(source, "ecr", "RefreshFailed");
  assert.match(
    ready(failed)?.message ?? "",
    /ECR GetAuthorizationToken at 127\.0\.0\.1:\d+: HTTP 503 ServerException: Service unavailable; the Secret keeps its last credential/,
  );
  const expired = await expectReason(source, "ecr", "CredentialExpired", 30_000);
  assert.match(
    ready(expired)?.message ?? "",
    /The credential expired at .* and could not be refreshed: ECR GetAuthorizationToken/,
  );
  assert.ok((expired.status?.consecutiveFailures ?? 0) >= 2);
  // Keep-last-good: the Secret and the placeholder still hold the last credential.
  assert.deepEqual((await readOutput(source, "ecr")).data, good.data);
  assert.deepEqual((await readPlaceholder(app)).auths, placeholderBefore.auths);
  const failures = ownCalls(fake)
    .slice(failedFrom)
    .map((c) => c.at);
  const gaps = failures.slice(1).map((at, i) => at - (failures[i] ?? 0));
  t.diagnostic(`ecr: retry gaps while failing: ${gaps.join(", ")} ms`);
  for (const gap of gaps) assert.ok(gap >= 900, `no retry storm: ${gap} ms`);
  fake.failing = false;
  const recovered = await expectReason(source, "ecr", "Refreshed", 60_000);
  assert.equal(recovered.status?.consecutiveFailures, 0);
  // The Event follows the status write: wait for the recovery's before judging them all.
  const credentialReasons = async () =>
    (await eventsOf(source))
      .filter((e) => e.involvedObject.kind === "RegistryCredential")
      .map((e) => e.reason)
      .sort();
  await eventually("the recovery Event", async () =>
    (await credentialReasons()).filter((r) => r === "Refreshed").length >= 2 ? true : undefined,
  );
  // Events list by name, not by time: each transition once, the recovery the second Refreshed.
  assert.deepEqual(await credentialReasons(), [
    "CredentialExpired",
    "RefreshFailed",
    "Refreshed",
    "Refreshed",
  ]);
  await assertNothingLeaked(logPath, [source, app], [...fake.secrets, fake.key.secretAccessKey]);
});

test("ecr: one token for every namespace the export reaches, and after a restart a credential that is still fresh is not minted again", async (t) => {
  const fake = await startAwsFake(3600);
  t.after(() => fake.close());
  const { source, app, other, stop } = await ecrSetup(t, fake, { lifetimeFraction: 0.5 });
  const before = await expectReason(source, "ecr", "Refreshed");
  for (const ns of [app, other]) {
    await eventually(`placeholder ${ns} has the ECR registry`, async () =>
      (await readPlaceholder(ns)).auths?.[REGISTRY] ? true : undefined,
    );
  }
  assert.equal(okCalls(fake).length, 1, "one GetAuthorizationToken for two namespaces");
  await stop();
  const { controller, metrics } = await startController(t, {
    env: { AWS_ENDPOINT_URL_ECR: fake.url, AWS_ENDPOINT_URL_STS: fake.url },
  });
  await eventually("the restarted controller reconciled the RegistryCredential", async () => {
    const counter = await metrics.registry.getSingleMetric(METRIC_RECONCILE_TOTAL)?.get();
    const done = counter?.values.some((v) => v.labels.controller === "registrycredential" && v.value > 0);
    return done ? true : undefined;
  });
  await controller.drained();
  assert.equal(okCalls(fake).length, 1, "no new token");
  const after = await readCredential(source, "ecr");
  assert.equal(after.status?.nextRefreshTime, before.status?.nextRefreshTime);
  assert.equal(after.status?.expiresAt, before.status?.expiresAt);
});
