// Faults on the path between the controller and kube-apiserver, made by a proxy in front of a private
// control plane: watches ended by the server, watches resumed from a compacted resourceVersion
// (410 Gone), a source deleted during such a gap, and every request answered 429, then 500, for a while. Objects change while the
// controller cannot see them; afterwards nothing may be missing.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import { eventually, testNamespace } from "../support/cluster.ts";
import { type ApiProxy, startApiProxy } from "../support/api-proxy.ts";
import { type ControllerProcess, startControllerProcess } from "../support/controller-process.ts";
import {
  compactEtcd,
  expectCopy,
  fanOut,
  importValue,
  mergePatch,
  placeholderPoller,
  rawClient,
  secretsPath,
  sleep,
  total,
  writes,
} from "../support/faults.ts";
import {
  cred,
  createExport,
  createPlaceholder,
  createSource,
  deleteExport,
  expectAuths,
  expectImportReason,
  readSecretIfAny,
  updateSource,
} from "../support/fixtures.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";

// Without the watch cache, watches are served by etcd itself, so compacting etcd makes an old
// resourceVersion answer 410 Gone exactly as a long-disconnected client sees it in production.
const plane = usePrivateControlPlane({ apiServerArgs: ["--watch-cache=false"] });
const QPS = 20;

describe("faults between the controller and the API server", () => {
  let proxy: ApiProxy;
  let controller: ControllerProcess;
  const http = rawClient();

  before(async () => {
    proxy = await startApiProxy(plane());
    controller = startControllerProcess([
      "--kubeconfig",
      proxy.kubeconfigPath,
      "--leader-elect",
      "false",
      "--qps",
      String(QPS),
      "--burst",
      String(QPS),
    ]);
    await controller.port();
  });
  after(async () => {
    await controller.stop();
    await proxy.close();
  });

  const readyz = async () => (await fetch(`http://127.0.0.1:${await controller.port()}/readyz`)).status;

  /**
   * Placeholders, an import and exports by selector and by name, converged; then the list of changes
   * a test makes while the controller cannot see them, and the state they must lead to.
   */
  async function scenario(t: TestContext) {
    const src = await testNamespace(t, "src");
    const gold = await testNamespace(t, "gold", { labels: { tier: "gold" } });
    const plain = await testNamespace(t, "plain");
    await createSource(src, "a", { "a.example.com": cred("a", "v1") });
    await createExport(t, src, "a", { toNamespaceSelector: { matchLabels: { tier: "gold" } } });
    await createSource(src, "b", { "b.example.com": cred("b", "v1") });
    await createExport(t, src, "b", { toNamespaces: [gold] });
    await importValue(http, src, plain, "token", "v1");
    await createPlaceholder(gold);
    await createPlaceholder(plain);
    await expectAuths(gold, { "a.example.com": cred("a", "v1"), "b.example.com": cred("b", "v1") });
    await expectAuths(plain, {});
    await expectCopy(http, plain, "token", "v1");

    const changes: (() => Promise<unknown>)[] = [
      () => updateSource(src, "a", { "a.example.com": cred("a", "v2") }),
      () => mergePatch(http, `/api/v1/namespaces/${plain}`, { metadata: { labels: { tier: "gold" } } }),
      () => deleteExport(src, "b"),
      () => createSource(src, "c", { "c.example.com": cred("c", "v1") }),
      () => createExport(t, src, "c", { toNamespace: plain }),
      () => createPlaceholder(gold, "second"),
      () => mergePatch(http, `${secretsPath(src)}/token`, { stringData: { value: "v2" } }),
    ];
    async function converged() {
      const a2 = { "a.example.com": cred("a", "v2") };
      await expectAuths(gold, a2, "pull", 60_000);
      await expectAuths(gold, a2, "second", 60_000);
      await expectAuths(plain, { ...a2, "c.example.com": cred("c", "v1") }, "pull", 60_000);
      await expectCopy(http, plain, "token", "v2");
    }
    return { changes, converged };
  }

  const VERY_SHORT_WATCH_MS = 1_000;

  test("watches ended by the server are resumed and miss no change", async (t) => {
    const { changes, converged } = await scenario(t);
    const watches = proxy.stats.watches;
    let ended = 0;
    for (const change of changes) {
      const started = proxy.stats.watches;
      const now = proxy.endWatches();
      ended += now;
      await change();
      // A watch ended within a second of its start is a very short watch (a failure, resumed after
      // a growing backoff): the next round ends watches once every informer has watched again for
      // longer than that, as a server's watch timeout does.
      await eventually("every ended watch started again", async () =>
        proxy.stats.watches - started >= now ? true : undefined,
      );
      await sleep(VERY_SHORT_WATCH_MS + 100);
    }
    const changedAt = Date.now();
    await converged();
    t.diagnostic(JSON.stringify({ watchesEnded: ended, convergedMs: Date.now() - changedAt }));
    assert.ok(ended >= changes.length * 6, `${ended} watches ended (6 informers, ${changes.length} times)`);
    assert.ok(proxy.stats.watches - watches >= ended, "every ended watch was started again");
  });

  test("a watch resumed after etcd compacted its resourceVersion gets 410 Gone, relists and misses nothing", async (t) => {
    const { changes, converged } = await scenario(t);
    const gone = proxy.stats.gone;
    proxy.fail(503);
    for (const change of changes) await change();
    const revision = await compactEtcd(plane().etcdUrl);
    proxy.heal();
    const healedAt = Date.now();
    await converged();
    t.diagnostic(
      JSON.stringify({
        compactedAt: revision,
        gone: proxy.stats.gone - gone,
        convergedMs: Date.now() - healedAt,
      }),
    );
    assert.ok(proxy.stats.gone > gone, "the API server answered 410 Gone");
    assert.equal(controller.child.exitCode, null, "the controller kept running");
  });

  test("a source deleted while the controller is cut off, the gap ending in 410 Gone: the copy is deleted and the import says so", async (t) => {
    const src = await testNamespace(t, "src");
    const dst = await testNamespace(t, "dst");
    // Created before its export, as kubectl apply of both does: no watch keeps this Secret.
    await importValue(http, src, dst, "token", "v1");
    await expectCopy(http, dst, "token", "v1");
    const gone = proxy.stats.gone;
    proxy.fail(503);
    await http.request(`${secretsPath(src)}/token`, { method: "DELETE" });
    await compactEtcd(plane().etcdUrl);
    proxy.heal();
    const healedAt = Date.now();
    await expectImportReason(dst, "token", "NoMatchingExport", 60_000);
    await eventually(
      "the copy is deleted",
      async () => ((await readSecretIfAny(dst, "token")) === undefined ? true : undefined),
      60_000,
    );
    t.diagnostic(JSON.stringify({ gone: proxy.stats.gone - gone, convergedMs: Date.now() - healedAt }));
    assert.ok(proxy.stats.gone > gone, "the API server answered 410 Gone");
  });

  test("the API server answering 429, then 500, for 20 s: backoff, no crash, convergence after", async (t) => {
    const size = 100;
    const fan = await fanOut(http, size);
    await fan.until(1, size);
    const poller = placeholderPoller(t, http, fan.labelSelector);
    const metricsBefore = await controller.metrics();
    const failedBefore = proxy.stats.failed;
    await fan.rotate(2);
    const doneAtFault = await fan.until(2, 5);
    const faultAt = Date.now();
    proxy.fail(429);
    const readiness = new Set<number>();
    const watchReadiness = setInterval(() => void readyz().then((s) => readiness.add(s)), 500);
    await sleep(10_000);
    proxy.fail(500);
    await sleep(10_000);
    proxy.heal();
    const healedAt = Date.now();
    const failed = proxy.stats.failed - failedBefore;
    await fan.until(2, size, 120_000);
    const convergedAt = Date.now();
    clearInterval(watchReadiness);
    const report = await poller.stop();
    // Readiness returns once every informer has a watch open again; the quiet ones may still be
    // backing off (at most 30 s) after the placeholders have converged.
    await eventually(
      "/readyz is back to 200",
      async () => ((await readyz()) === 200 ? true : undefined),
      45_000,
    );
    const readyAt = Date.now();
    const metricsAfter = await controller.metrics();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(metricsAfter, name, labels) - total(metricsBefore, name, labels);
    t.diagnostic(
      JSON.stringify({
        doneWhenFaultStarted: doneAtFault,
        requestsRefused: failed,
        refusedPerSecond: Math.round((failed * 1000) / (healedAt - faultAt)),
        convergedAfterFaultMs: convergedAt - healedAt,
        readyAfterFaultMs: readyAt - healedAt,
        writes: writes(metricsAfter) - writes(metricsBefore),
        patches: delta("rest_client_requests_total", { method: "PATCH" }),
        reconcileErrors: delta("controller_runtime_reconcile_errors_total"),
        retries: delta("workqueue_retries_total"),
        readiness: [...readiness],
      }),
    );
    assert.equal(controller.child.exitCode, null, "the controller kept running");
    assert.deepEqual(report.violations, [], "no placeholder lost an entry");
    assert.ok(delta("workqueue_retries_total") > 0, "failed writes were retried with backoff");
    // Writes are held to --qps; lists and watches back off exponentially per informer.
    const allowed = QPS * Math.ceil((healedAt - faultAt) / 1000) + 6 * 10;
    assert.ok(failed <= allowed, `${failed} requests during the fault, at most ${allowed}`);
    assert.ok(readiness.has(503), "/readyz reported the failing watches");
  });
});
