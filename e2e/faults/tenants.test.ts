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
import { GROUP, LABEL_IMPORTED, VERSION } from "../../src/constants.ts";
import { createController } from "../../src/controller/controller.ts";
import { type ApiProxy, startApiProxy } from "../support/api-proxy.ts";
import { eventually, testNamespace, uniqueName } from "../support/cluster.ts";
import { startControllerProcess } from "../support/controller-process.ts";
import {
  encode,
  exportBody,
  exportsPath,
  importsPath,
  inParallel,
  placeholderBody,
  rawClient,
  secretsPath,
  sourceBody,
} from "../support/faults.ts";
import { cred, createPlaceholder, expectReadyReason, readPlaceholder } from "../support/fixtures.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";
import { eventsFor, offer, patchExportSpec, quiescent, uniqueRegistry } from "../support/sharing.ts";

const plane = usePrivateControlPlane();
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

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

const importBody = (name: string, fromNamespace: string) => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: "SecretImport",
  metadata: { name },
  spec: { fromNamespace },
});

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
  await quiescent(first);
  await first.stop();
  const before = await Promise.all(["one", "two"].map((n) => count(src, n, "ConflictDetected")));
  assert.deepEqual(before, [1, 1]);

  const second = await startController(t);
  await quiescent(second);
  const resolved = await Promise.all(["one", "two"].map((n) => count(src, n, "ConflictResolved")));
  const detected = await Promise.all(["one", "two"].map((n) => count(src, n, "ConflictDetected")));
  assert.deepEqual({ resolved, detected }, { resolved: [0, 0], detected: [1, 1] });
});

test("a tenant's 300 Secrets of 900 KiB the controller does not serve do not exhaust its 128 MiB heap", async (t) => {
  const tenant = await testNamespace(t, "tenant");
  const controller = startControllerProcess(
    ["--kubeconfig", plane().kubeconfigPath, "--leader-elect", "false"],
    {
      NODE_OPTIONS: "--max-old-space-size=128 --max-semi-space-size=1",
    },
  );
  t.after(() => controller.stop());
  await controller.port();
  const http = rawClient();
  const filler = "A".repeat(900 * 1024 - 64);
  await inParallel(range(150), 4, async (i) => {
    const config = JSON.stringify({ auths: { [`r${i}.example`]: { auth: filler } } });
    await http.request(secretsPath(tenant), {
      method: "POST",
      body: {
        metadata: { name: `docker-${i}` },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": encode(config) },
      },
    });
    await http.request(secretsPath(tenant), {
      method: "POST",
      body: {
        metadata: { name: `forged-${i}`, labels: { [LABEL_IMPORTED]: "true" } },
        data: { blob: Buffer.alloc(900 * 1024, i).toString("base64") },
      },
    });
  });

  // Still serving: a placeholder elsewhere is filled, by this process.
  const src = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await offer(t, src, "creds", { [uniqueRegistry("after")]: cred("u", "p") }, { toNamespace: app });
  await createPlaceholder(app);
  const exitedEarly = controller.exited.then(
    (code) => `the controller exited (${code}): ${controller.logPath}`,
  );
  const filled = eventually(
    "the placeholder filled",
    async () => ((await readPlaceholder(app)).auths !== undefined ? "filled" : undefined),
    60_000,
  );
  assert.equal(await Promise.race([filled.catch(String), exitedEarly]), "filled");
  assert.equal(controller.child.exitCode, null);
});

test("after random exports, sources, placeholders, imports and conflicts come and go, no internal map holds anything", async (t) => {
  const [src1, src2, app1, app2] = [
    await testNamespace(t, "src"),
    await testNamespace(t, "src"),
    await testNamespace(t, "app"),
    await testNamespace(t, "app"),
  ];
  const controller = await startController(t);
  const http = rawClient();
  let seed = 13;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(items: readonly T[]) => items[random(items.length)] as T;
  const registry = uniqueRegistry("shared");
  const ignore = () => undefined;
  const steps: (() => Promise<unknown>)[] = [
    // Two exports offering different credentials for one registry: a conflict where both reach.
    async () => {
      const [from, name, to] = [pick([src1, src2]), pick(["a", "b"]), pick([app1, app2])];
      await http
        .request(secretsPath(from), {
          method: "POST",
          body: sourceBody(name, { [registry]: cred(from, name) }),
        })
        .catch(ignore);
      await http
        .request(exportsPath(from), { method: "POST", body: exportBody(name, { toNamespaces: [to] }) })
        .catch(ignore);
    },
    async () => {
      const [from, to] = [pick([src1, src2]), pick([app1, app2])];
      await http
        .request(secretsPath(from), {
          method: "POST",
          body: { metadata: { name: "opaque" }, stringData: { v: from } },
        })
        .catch(ignore);
      await http
        .request(exportsPath(from), { method: "POST", body: exportBody("opaque", { toNamespace: to }) })
        .catch(ignore);
      await http.request(importsPath(to), { method: "POST", body: importBody("opaque", from) }).catch(ignore);
    },
    () =>
      http
        .request(secretsPath(pick([app1, app2])), { method: "POST", body: placeholderBody("pull") })
        .catch(ignore),
    () =>
      http
        .request(`${exportsPath(pick([src1, src2]))}/${pick(["a", "b", "opaque"])}`, { method: "DELETE" })
        .catch(ignore),
    () =>
      http
        .request(`${secretsPath(pick([src1, src2]))}/${pick(["a", "b", "opaque"])}`, { method: "DELETE" })
        .catch(ignore),
    () => http.request(`${secretsPath(pick([app1, app2]))}/pull`, { method: "DELETE" }).catch(ignore),
  ];
  for (let step = 0; step < 60; step++) {
    await pick(steps)();
    if (random(4) === 0) await quiescent(controller);
  }
  await quiescent(controller);
  for (const ns of [src1, src2]) {
    for (const name of ["a", "b", "opaque"]) {
      await http.request(`${exportsPath(ns)}/${name}`, { method: "DELETE" }).catch(ignore);
      await http.request(`${secretsPath(ns)}/${name}`, { method: "DELETE" }).catch(ignore);
    }
  }
  for (const ns of [app1, app2]) {
    await http.request(`${importsPath(ns)}/opaque`, { method: "DELETE" }).catch(ignore);
    await http.request(`${secretsPath(ns)}/pull`, { method: "DELETE" }).catch(ignore);
  }
  const empty = (sizes: Record<string, number>) => Object.values(sizes).every((n) => n === 0);
  await eventually("every internal map empty", async () => {
    await quiescent(controller);
    return empty(controller.internals()) ? true : undefined;
  }).catch((err: unknown) => {
    throw new Error(`left behind: ${JSON.stringify(controller.internals())}`, { cause: err });
  });
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
    await quiescent(controller);
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
