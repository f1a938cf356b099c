// Writes the API server refuses, which retrying will not change: the object they concern says so in
// its status within seconds, and the controller does not retry them in a storm.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { REASON_WRITE_REJECTED } from "../../src/constants.ts";
import { testNamespace } from "../support/cluster.ts";
import { type ControllerProcess, startControllerProcess } from "../support/controller-process.ts";
import { importValue, mergePatch, rawClient, total } from "../support/faults.ts";
import { expectImportReason, readSecretIfAny } from "../support/fixtures.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";

const plane = usePrivateControlPlane();

describe("writes the API server rejects", () => {
  let controller: ControllerProcess;
  const http = rawClient();

  before(async () => {
    controller = startControllerProcess(["--kubeconfig", plane().kubeconfigPath, "--leader-elect", "false"]);
    await controller.port();
  });
  after(() => controller.stop());

  test("a ResourceQuota of secrets: \"0\" in the import's namespace: the SecretImport is Ready=False WriteRejected with the quota's message", async (t) => {
    const src = await testNamespace(t, "src");
    const dst = await testNamespace(t, "dst");
    await http.request(`/api/v1/namespaces/${dst}/resourcequotas`, {
      method: "POST",
      body: { metadata: { name: "no-secrets" }, spec: { hard: { secrets: "0" } } },
    });
    // What kube-controller-manager's quota controller would count (the plane runs only the garbage
    // collector): quota admission then refuses every new Secret in the namespace.
    await mergePatch(http, `/api/v1/namespaces/${dst}/resourcequotas/no-secrets/status`, {
      status: { hard: { secrets: "0" }, used: { secrets: "0" } },
    });
    const before = await controller.metrics();
    const startedAt = Date.now();
    await importValue(http, src, dst, "token", "v1");
    const read = await expectImportReason(dst, "token", REASON_WRITE_REJECTED, 30_000);
    const ready = read.status?.conditions?.find((c) => c.type === "Ready");
    const after = await controller.metrics();
    const rejected = (metrics: string) =>
      total(metrics, "secret_export_reconcile_errors_total", {
        controller: "secretimport",
        class: "rejected",
      });
    t.diagnostic(
      JSON.stringify({
        reportedMs: Date.now() - startedAt,
        message: ready?.message,
        rejected: rejected(after) - rejected(before),
      }),
    );
    assert.equal(ready?.status, "False");
    assert.match(String(ready?.message), /^Forbidden: .*quota/);
    assert.doesNotMatch(JSON.stringify(read.status), /djE=/, "never the Secret's data (base64 of v1)");
    assert.equal(await readSecretIfAny(dst, "token"), undefined, "no copy");
    const attempts = rejected(after) - rejected(before);
    assert.ok(
      attempts >= 1 && attempts <= 3,
      `${attempts} rejected attempts: retried in minutes, not with backoff`,
    );
  });
});
