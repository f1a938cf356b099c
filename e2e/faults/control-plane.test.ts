// The control plane fails under the controller in the middle of real work: kube-apiserver stopped for
// 20 s during a fan-out to 200 placeholders, then etcd restarted during the next one. On a private
// control plane, since these faults would break every other test file's.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import { eventually } from "../support/cluster.ts";
import { type ControllerProcess, startControllerProcess } from "../support/controller-process.ts";
import {
  fanOut,
  placeholderBody,
  placeholderPoller,
  rawClient,
  secretsPath,
  total,
  writes,
} from "../support/faults.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";

const plane = usePrivateControlPlane();
const SIZE = 200;
// A low write rate keeps the fan-out in progress long enough to break the plane under it.
const QPS = 20;
const BURST = 20;

describe("control-plane faults during a fan-out", () => {
  let controller: ControllerProcess;
  let scenario: Awaited<ReturnType<typeof fanOut>>;
  const http = rawClient();

  before(async () => {
    scenario = await fanOut(http, SIZE);
    controller = startControllerProcess([
      "--kubeconfig",
      plane().kubeconfigPath,
      "--leader-elect",
      "false",
      "--qps",
      String(QPS),
      "--burst",
      String(BURST),
    ]);
    await scenario.until(1, SIZE);
  });
  after(() => controller.stop());

  /** Rotates the source, breaks the plane once the fan-out is under way, and checks the end state. */
  async function faultDuringFanOut(t: TestContext, version: number, fault: () => Promise<void>) {
    const metricsBefore = await controller.metrics();
    const poller = placeholderPoller(t, http, scenario.labelSelector);
    await scenario.rotate(version);
    const rotatedAt = Date.now();
    const doneAtFault = await scenario.until(version, 10);
    await fault();
    const healedAt = Date.now();
    await scenario.until(version, SIZE, 180_000);
    const convergedAt = Date.now();
    const report = await poller.stop();
    const metricsAfter = await controller.metrics();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(metricsAfter, name, labels) - total(metricsBefore, name, labels);

    const patches = delta("rest_client_requests_total", { method: "PATCH" });
    t.diagnostic(
      JSON.stringify({
        doneWhenFaultStarted: doneAtFault,
        faultMs: healedAt - rotatedAt,
        convergedAfterFaultMs: convergedAt - healedAt,
        writes: writes(metricsAfter) - writes(metricsBefore),
        patches,
        patchErrors: patches - delta("rest_client_requests_total", { method: "PATCH", code: "200" }),
        reconcileErrors: delta("controller_runtime_reconcile_errors_total"),
        retries: delta("workqueue_retries_total"),
        pollerReads: report.reads,
      }),
    );
    assert.deepEqual(report.violations, [], "no placeholder lost an entry");
    assert.equal(controller.child.exitCode, null, "the controller kept running");
    // Writes that fail while the plane is down are retried with per-key backoff, and all of them
    // together never exceed the client-side rate limit: no storm when the plane comes back.
    const allowed = SIZE + BURST + QPS * Math.ceil((convergedAt - rotatedAt) / 1000);
    assert.ok(patches <= allowed, `${patches} PATCH requests, at most ${allowed} within --qps ${QPS}`);
  }

  /** The watches work again: a placeholder in a new namespace is filled. */
  async function newPlaceholderIsFilled(version: number) {
    const namespace = `${scenario.id}-late-${version}`;
    await http.request("/api/v1/namespaces", {
      method: "POST",
      body: { metadata: { name: namespace, labels: { fanout: scenario.id } } },
    });
    await http.request(secretsPath(namespace), {
      method: "POST",
      body: placeholderBody("pull", { fanout: scenario.id }),
    });
    await eventually(
      `the placeholder in ${namespace} is filled`,
      async () => ((await scenario.holding(version)) >= SIZE + 1 ? true : undefined),
      60_000,
    );
    await http.request(`/api/v1/namespaces/${namespace}`, { method: "DELETE" });
  }

  test("kube-apiserver stopped for 20 s in the middle of a fan-out: every placeholder converges, none loses an entry", async (t) => {
    await faultDuringFanOut(t, 2, () => plane().restartApiServer(20_000));
    await eventually(
      "the controller is ready again",
      async () => {
        const port = await controller.port();
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined;
      },
      60_000,
    );
    await newPlaceholderIsFilled(2);
  });

  test("etcd restarted in the middle of a fan-out: every placeholder converges, none loses an entry", async (t) => {
    await faultDuringFanOut(t, 3, () => plane().restartEtcd(5_000));
    await newPlaceholderIsFilled(3);
  });
});
