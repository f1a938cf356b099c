// Faults of the controller's own processes, and of its neighbours: SIGKILL in the middle of a fan-out,
// the leader killed in the middle of a fan-out with a standby waiting, another client rewriting
// what the controller owns, and a write the API accepts and never answers. A poller reads every placeholder throughout: none may ever lose an entry.
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { test, type TestContext } from "node:test";
import { DOCKER_CONFIG_JSON_KEY } from "../../src/constants.ts";
import { eventually, leaseHolder, testNamespace } from "../support/cluster.ts";
import { type ControllerProcess, startControllerProcess } from "../support/controller-process.ts";
import {
  authsOf,
  encode,
  expectCopy,
  exportBody,
  exportsPath,
  fanOut,
  importValue,
  mergePatch,
  placeholderPoller,
  rawClient,
  secretsPath,
  sleep,
  sourceBody,
  total,
  writes,
} from "../support/faults.ts";
import {
  cred,
  createExport,
  createPlaceholder,
  createSource,
  dockerConfig,
  expectAuths,
  updateSource,
} from "../support/fixtures.ts";
import { startApiProxy } from "../support/api-proxy.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";

const plane = usePrivateControlPlane();
const SIZE = 200;
const QPS = 20;

function controllerProcess(t: TestContext, ...args: string[]): ControllerProcess {
  const proc = startControllerProcess([
    "--kubeconfig",
    plane().kubeconfigPath,
    "--qps",
    String(QPS),
    "--burst",
    String(QPS),
    ...args,
  ]);
  t.after(() => proc.stop());
  return proc;
}

/** A fan-out of two changes at once: the source rotated and a second export to every placeholder. */
async function twoChangeFanOut(fan: Awaited<ReturnType<typeof fanOut>>) {
  const http = rawClient();
  await fan.rotate(2);
  await http.request(secretsPath(fan.source), {
    method: "POST",
    body: sourceBody("extra", { "extra.example.com": cred("extra", "v1") }),
  });
  await http.request(exportsPath(fan.source), {
    method: "POST",
    body: exportBody("extra", { toNamespaceSelector: { matchLabels: { fanout: fan.id } } }),
  });
  const expected = { ...fan.auths(2), "extra.example.com": cred("extra", "v1") };
  /** How many placeholders hold both changes. */
  const done = async () =>
    [...(await fan.placeholders()).values()].filter((s) => isDeepStrictEqual(authsOf(s), expected)).length;
  const until = (count: number, timeoutMs = 120_000) =>
    eventually(
      `${count} of ${SIZE} placeholders hold both changes`,
      async () => {
        const n = await done();
        return n >= count ? n : undefined;
      },
      timeoutMs,
    );
  return { until };
}

test("the controller SIGKILLed in the middle of a fan-out and started again: it converges and no placeholder ever loses an entry", async (t) => {
  const http = rawClient();
  const fan = await fanOut(http, SIZE);
  const first = controllerProcess(t, "--leader-elect", "false");
  await fan.until(1, SIZE);
  const poller = placeholderPoller(t, http, fan.labelSelector);
  const change = await twoChangeFanOut(fan);
  const doneAtKill = await change.until(20);
  first.child.kill("SIGKILL");
  assert.equal(await first.exited, "SIGKILL");
  const restartedAt = Date.now();
  const second = controllerProcess(t, "--leader-elect", "false");
  await change.until(SIZE);
  const convergedAt = Date.now();
  const report = await poller.stop();
  const metrics = await second.metrics();
  const patches = total(metrics, "rest_client_requests_total", { method: "PATCH" });
  t.diagnostic(
    JSON.stringify({
      doneWhenKilled: doneAtKill,
      convergedAfterRestartMs: convergedAt - restartedAt,
      writesAfterRestart: writes(metrics),
      patchesAfterRestart: patches,
      pollerReads: report.reads,
    }),
  );
  assert.deepEqual(report.violations, [], "no placeholder lost an entry");
  assert.ok(report.reads >= 10, `the poller read ${report.reads} times`);
  // The new process writes only what the killed one had not: converged placeholders are left alone.
  // Plus the two exports' statuses and the retries of writes that raced with the caches.
  assert.ok(patches <= SIZE - doneAtKill + 20, `${patches} PATCH requests after the restart`);
});

test("the leader killed in the middle of a fan-out: the standby takes over and completes it", async (t) => {
  const http = rawClient();
  const leaseNamespace = await testNamespace(t, "lease");
  const fan = await fanOut(http, SIZE);
  const election = [
    "--leader-election-namespace",
    leaseNamespace,
    "--lease-duration",
    "6",
    "--renew-deadline",
    "4",
    "--retry-period",
    "0.5",
  ];
  const replicas = [controllerProcess(t, ...election), controllerProcess(t, ...election)];
  const holder = () => leaseHolder(leaseNamespace);
  const leaderId = await eventually("a leader", holder);
  const leader = replicas.find((r) => r.identity === leaderId);
  const standby = replicas.find((r) => r.identity !== leaderId);
  assert.ok(leader && standby);
  await fan.until(1, SIZE);
  await standby.port();

  const poller = placeholderPoller(t, http, fan.labelSelector);
  const change = await twoChangeFanOut(fan);
  const doneAtKill = await change.until(20);
  const standbyBefore = await standby.metrics();
  leader.child.kill("SIGKILL");
  const killedAt = Date.now();
  await eventually("the standby leads", async () =>
    (await holder()) === standby.identity ? true : undefined,
  );
  const tookOverAt = Date.now();
  await change.until(SIZE);
  const convergedAt = Date.now();
  const report = await poller.stop();
  const standbyAfter = await standby.metrics();
  const patches = total(standbyAfter, "rest_client_requests_total", { method: "PATCH" });
  t.diagnostic(
    JSON.stringify({
      doneWhenKilled: doneAtKill,
      takeoverMs: tookOverAt - killedAt,
      convergedAfterKillMs: convergedAt - killedAt,
      newLeaderWrites: writes(standbyAfter) - writes(standbyBefore),
      newLeaderPatches: patches,
    }),
  );
  for (const method of ["PATCH", "DELETE"]) {
    const count = total(standbyBefore, "rest_client_requests_total", { method });
    assert.equal(count, 0, `the standby made no ${method} before it led`);
  }
  assert.deepEqual(report.violations, [], "no placeholder lost an entry");
  assert.ok(patches <= SIZE - doneAtKill + 20, `${patches} PATCH requests by the new leader`);
});

test("another client rewriting a placeholder and an imported copy for 10 s: the controller restores both without a hot loop", async (t) => {
  const http = rawClient();
  const src = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const good = { "fight.example.com": cred("u", "good") };
  await createSource(src, "creds", good);
  await createExport(t, src, "creds", { toNamespace: app });
  await createPlaceholder(app);
  await importValue(http, src, app, "token", "good");
  const controller = controllerProcess(t, "--leader-elect", "false", "--log-level", "debug");
  await expectAuths(app, good);
  await expectCopy(http, app, "token", "good");
  await sleep(1_000);

  const before = await controller.metrics();
  const evil = encode(dockerConfig({ "fight.example.com": cred("u", "evil") }));
  let rewrites = 0;
  const stopAt = Date.now() + 10_000;
  while (Date.now() < stopAt) {
    await Promise.all([
      mergePatch(http, `${secretsPath(app)}/pull`, { data: { [DOCKER_CONFIG_JSON_KEY]: evil } }),
      mergePatch(http, `${secretsPath(app)}/token`, { data: { value: encode("evil") } }),
    ]);
    rewrites += 2;
  }
  const stoppedAt = Date.now();
  await expectAuths(app, good, "pull", 60_000);
  await expectCopy(http, app, "token", "good");
  const restoredAt = Date.now();
  await sleep(2_000);
  const after = await controller.metrics();
  const delta = (name: string, labels: Record<string, string> = {}) =>
    total(after, name, labels) - total(before, name, labels);
  const patches = delta("rest_client_requests_total", { method: "PATCH" });
  t.diagnostic(
    JSON.stringify({
      rewrites,
      controllerPatches: patches,
      restoredAfterWriterStoppedMs: restoredAt - stoppedAt,
      reconciles: delta("controller_runtime_reconcile_total"),
      retries: delta("workqueue_retries_total"),
      requeues: delta("controller_runtime_reconcile_total", { result: "requeue_after" }),
      heldBack: {
        placeholder: delta("secret_export_rewrites_delayed_total", { controller: "placeholder" }),
        secretimport: delta("secret_export_rewrites_delayed_total", { controller: "secretimport" }),
      },
    }),
  );
  // A hot loop would answer every rewrite with a write. With backoff each object is rewritten about
  // 1, 3, 7 and 15 s into the fight: a handful of writes, where at most one a second is allowed here.
  assert.ok(patches <= 2 * 12, `${patches} PATCH requests against ${rewrites} rewrites`);
  for (const controller of ["placeholder", "secretimport"]) {
    assert.ok(
      delta("secret_export_rewrites_delayed_total", { controller }) > 0,
      `${controller} restores were held back, and the metric says so`,
    );
  }
});

test("the leader frozen (SIGSTOP) past its lease during a fan-out: the standby takes over, and the resumed leader sends no write", async (t) => {
  const http = rawClient();
  const leaseNamespace = await testNamespace(t, "lease");
  const fan = await fanOut(http, SIZE);
  const election = [
    "--leader-election-namespace",
    leaseNamespace,
    "--lease-duration",
    "6",
    "--renew-deadline",
    "4",
    "--retry-period",
    "0.5",
  ];
  // Each replica talks through its own proxy, which counts the writes it sends.
  const proxies = [await startApiProxy(plane()), await startApiProxy(plane())];
  t.after(() => Promise.all(proxies.map((p) => p.close())));
  const replicas = proxies.map((proxy) => {
    const proc = startControllerProcess([
      ...["--kubeconfig", proxy.kubeconfigPath, "--qps", String(QPS), "--burst", String(QPS)],
      ...election,
    ]);
    t.after(() => proc.stop());
    return { proc, proxy };
  });
  const holder = () => leaseHolder(leaseNamespace);
  const leaderId = await eventually("a leader", holder);
  const leader = replicas.find((r) => r.proc.identity === leaderId);
  const standby = replicas.find((r) => r.proc.identity !== leaderId);
  assert.ok(leader && standby);
  await fan.until(1, SIZE);

  const change = await twoChangeFanOut(fan);
  const doneAtStop = await change.until(20);
  leader.proc.child.kill("SIGSTOP");
  const stoppedAt = Date.now();
  await eventually("the standby leads", async () =>
    (await holder()) === standby.proc.identity ? true : undefined,
  );
  const tookOverAt = Date.now();
  const writesBeforeResume = leader.proxy.stats.writes;
  leader.proc.child.kill("SIGCONT");
  await change.until(SIZE);
  await eventually("the old leader exits", async () =>
    leader.proc.child.exitCode !== null ? true : undefined,
  );
  const log = await leader.proc.log();
  t.diagnostic(
    JSON.stringify({
      doneWhenStopped: doneAtStop,
      frozenMs: tookOverAt - stoppedAt,
      oldLeaderWritesAfterResume: leader.proxy.stats.writes - writesBeforeResume,
      oldLeaderWritesRefused: log.split("\n").filter((l) => l.includes("not writing")).length,
      newLeaderWrites: standby.proxy.stats.writes,
      oldLeaderExitCode: leader.proc.child.exitCode,
    }),
  );
  assert.equal(leader.proxy.stats.writes - writesBeforeResume, 0, "no write after resuming");
  assert.match(log, /not renewed within the renew deadline/);
  assert.equal(leader.proc.child.exitCode, 1);
});

/** The controller's log lines (pino JSON) with this message prefix and key, in order. */
async function logLines(proc: ControllerProcess, msg: string, key: string) {
  const lines = (await proc.log()).split("\n").filter((l) => l.startsWith("{"));
  return lines
    .map((l) => JSON.parse(l) as { time: number; msg: string; key?: string; errorClass?: string })
    .filter((l) => l.msg.startsWith(msg) && l.key === key);
}

test("a PATCH the API accepts and never answers: the reconcile fails at --request-timeout and is retried with backoff; SIGTERM during the hang exits 0 within --shutdown-timeout and releases the Lease", async (t) => {
  const REQUEST_TIMEOUT_S = 4;
  const SHUTDOWN_TIMEOUT_S = 4;
  const leaseNamespace = await testNamespace(t, "lease");
  const src = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await createSource(src, "creds", { "hang.example.com": cred("u", "v1") });
  await createExport(t, src, "creds", { toNamespace: app });
  await createPlaceholder(app);
  const proxy = await startApiProxy(plane());
  t.after(() => proxy.close());
  const controller = startControllerProcess([
    ...["--kubeconfig", proxy.kubeconfigPath, "--leader-election-namespace", leaseNamespace],
    ...["--request-timeout", String(REQUEST_TIMEOUT_S), "--shutdown-timeout", String(SHUTDOWN_TIMEOUT_S)],
  ]);
  t.after(() => controller.stop());
  await expectAuths(app, { "hang.example.com": cred("u", "v1") });
  const before = await controller.metrics();

  const placeholder = `${secretsPath(app)}/pull`;
  proxy.hangWrites((w) => w.method === "PATCH" && w.path === placeholder);
  await updateSource(src, "creds", { "hang.example.com": cred("u", "v2") });
  const attempts = () => proxy.writeLog.filter((w) => w.hung).map((w) => w.at);
  await eventually(
    "the hung PATCH retried twice",
    async () => (attempts().length >= 3 ? true : undefined),
    60_000,
  );
  // SIGTERM while a retry hangs: the attempt has just been sent.
  const retries = attempts().length;
  await eventually(
    "the next attempt hangs",
    async () => (attempts().length > retries && proxy.hanging() === 1 ? true : undefined),
    60_000,
  );
  const failures = await logLines(controller, "reconcile failed", `${app}/pull`);
  const after = await controller.metrics();
  const termAt = Date.now();
  controller.child.kill("SIGTERM");
  const code = await controller.exited;
  const exitMs = Date.now() - termAt;

  const sent = attempts();
  const gaps = sent.slice(1).map((at, i) => at - (sent[i] ?? 0));
  const failedAfter = failures.map((f, i) => f.time - (sent[i] ?? 0));
  const delta = (name: string, labels: Record<string, string>) =>
    total(after, name, labels) - total(before, name, labels);
  t.diagnostic(
    JSON.stringify({
      hungAttempts: sent.length,
      failedAfterMs: failedAfter,
      retryGapsMs: gaps,
      timeouts: delta("secret_export_reconcile_errors_total", {
        controller: "placeholder",
        class: "timeout",
      }),
      exitAfterSigtermMs: exitMs,
      exitCode: code,
    }),
  );
  assert.ok(failures.length >= 2, `${failures.length} failed reconciles logged`);
  // The proxy times a PATCH once it has read the body, a moment after the client's deadline started.
  for (const [i, ms] of failedAfter.entries()) {
    assert.ok(failures[i]?.errorClass === "timeout", `failure ${i} is a timeout`);
    assert.ok(
      ms > REQUEST_TIMEOUT_S * 1000 - 500 && ms < REQUEST_TIMEOUT_S * 1000 + 1_500,
      `failed ${ms} ms after its PATCH`,
    );
  }
  for (const gap of gaps)
    assert.ok(gap < REQUEST_TIMEOUT_S * 1000 + 2_000, `retried ${gap} ms after the last attempt`);
  assert.ok(delta("workqueue_retries_total", { name: "placeholder" }) >= 2, "retried through the work queue");
  assert.equal(code, 0, "SIGTERM during the hang exits 0");
  assert.ok(exitMs < SHUTDOWN_TIMEOUT_S * 1000 + 1_000, `exited ${exitMs} ms after SIGTERM`);
  assert.equal(await leaseHolder(leaseNamespace), undefined, "the Lease is released");
  assert.match(await controller.log(), /released the lease/);
});
