// What a tenant, a restart or a lagging watch must not be able to do to the controller (issue 13):
// flip conflicted exports on a restart, record one transition twice, or get a Secret's bytes into
// the log through a malformed watch line. On a private control plane, with the controller in this
// process so a test can restart it, and a proxy in front of it where the network path matters.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { LABEL_IMPORTED } from "../../src/constants.ts";
import { createController } from "../../src/controller/controller.ts";
import { type ApiProxy, startApiProxy } from "../support/api-proxy.ts";
import { eventually, testNamespace, uniqueName } from "../support/cluster.ts";
import { encode, rawClient, secretsPath } from "../support/faults.ts";
import { cred, createPlaceholder, expectReadyReason } from "../support/fixtures.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";
import { eventsFor, offer, patchExportSpec, settled, uniqueRegistry } from "../support/sharing.ts";

const plane = usePrivateControlPlane();

type Controller = ReturnType<typeof createController> & { logPath: string };

/** A controller in this process, through `kubeconfigPath`, logging to a file of its own; stopped when the test ends. */
async function startController(t: TestContext, kubeconfigPath = plane().kubeconfigPath): Promise<Controller> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const logPath = join(plane().dir, `${uniqueName("controller")}.log`);
  const controller = createController({
    kubeConfig,
    log: pino({ level: "debug" }, pino.destination({ dest: logPath, sync: true })),
    concurrency: 4,
    qps: 0,
    burst: 1,
    resyncPeriodMs: 600_000,
    instance: uniqueName("e2e"),
  });
  t.after(() => controller.stop());
  await controller.startCaches();
  controller.startReconciling();
  return { ...controller, logPath };
}

/** Events of one reason recorded for a SecretExport. */
const count = async (namespace: string, name: string, reason: string) =>
  (await eventsFor(namespace, "SecretExport", name, reason)).length;

test("a restart reports conflicted exports as conflicted from the start: no ConflictResolved, no second ConflictDetected", async (t) => {
  const src = await testNamespace(t, "src");
  const label = { busy: uniqueName("b") };
  // Placeholders in namespaces that sort before the conflicted one, so they are reconciled first.
  for (let i = 0; i < 40; i++) {
    await createPlaceholder(await testNamespace(t, `a${String(i).padStart(2, "0")}`, { labels: label }));
  }
  const conflicted = await testNamespace(t, "z");
  await createPlaceholder(conflicted);
  await offer(
    t,
    src,
    "busy",
    { [uniqueRegistry("busy")]: cred("b", "b") },
    { toNamespaceSelector: { matchLabels: label } },
  );
  const registry = uniqueRegistry("contested");
  await offer(t, src, "one", { [registry]: cred("one", "1") }, { toNamespace: conflicted });
  await offer(t, src, "two", { [registry]: cred("two", "2") }, { toNamespace: conflicted });

  const first = await startController(t);
  await expectReadyReason(src, "one", "Conflict");
  await expectReadyReason(src, "two", "Conflict");
  await settled(first);
  await first.stop();
  const before = await Promise.all(["one", "two"].map((n) => count(src, n, "ConflictDetected")));
  assert.deepEqual(before, [1, 1]);

  const second = await startController(t);
  await settled(second);
  const resolved = await Promise.all(["one", "two"].map((n) => count(src, n, "ConflictResolved")));
  const detected = await Promise.all(["one", "two"].map((n) => count(src, n, "ConflictDetected")));
  assert.deepEqual({ resolved, detected }, { resolved: [0, 0], detected: [1, 1] });
});

describe("behind a proxy", () => {
  let proxy: ApiProxy;
  before(async () => {
    proxy = await startApiProxy(plane());
  });
  after(() => proxy.close());

  test("a watch lagging behind a status write does not record the same transition twice", async (t) => {
    const src = await testNamespace(t, "src");
    const app = await testNamespace(t, "app");
    await offer(t, src, "creds", { [uniqueRegistry("lag")]: cred("u", "p") }, { toNamespace: app });
    const controller = await startController(t, proxy.kubeconfigPath);
    await expectReadyReason(src, "creds", "Exported");

    proxy.delayWatches(4_000);
    t.after(() => proxy.delayWatches(0));
    await patchExportSpec(src, "creds", { toNamespace: "[" });
    await expectReadyReason(src, "creds", "InvalidSpec");
    // Every export again at once, while the cache still shows the status from before the write.
    controller.resyncNow();
    await eventually("the cache sees the status written", async () =>
      controller.state.exports
        .get(`${src}/creds`)
        ?.status.conditions?.some((c) => c.reason === "InvalidSpec"),
    );
    await settled(controller);
    assert.equal(await count(src, "creds", "ExportInvalid"), 1);
  });

  test("a malformed watch line carrying Secret data never reaches the log with that data", async (t) => {
    const tenant = await testNamespace(t, "tenant");
    const controller = await startController(t, proxy.kubeconfigPath);
    const value = encode(`top-secret-${uniqueName("v")}`);
    proxy.garbleWatchLines(value);
    t.after(() => proxy.garbleWatchLines(undefined));
    await rawClient().request(secretsPath(tenant), {
      method: "POST",
      body: { metadata: { name: "forged", labels: { [LABEL_IMPORTED]: "true" } }, data: { token: value } },
    });
    const log = () => readFile(controller.logPath, "utf8");
    await eventually("the controller logged the failed watch", async () =>
      (await log()).includes("list/watch failed") ? true : undefined,
    );
    proxy.garbleWatchLines(undefined);
    const text = await log();
    assert.match(text, /malformed watch event/);
    // A JSON parse error quotes about ten characters from where it failed.
    assert.equal(text.includes(value.slice(0, 8)), false, "the Secret's bytes are in the log");
  });
});
