// Writes the API server refuses, which retrying will not change (a ResourceQuota, a
// ValidatingAdmissionPolicy): the object they concern says so within seconds (its status, or a
// Warning Event where the status cannot be written), and the controller does not retry them in a storm.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import { DOCKER_CONFIG_JSON_KEY, GROUP, REASON_WRITE_REJECTED, VERSION } from "../../src/constants.ts";
import { type KubeHttp, statusOf } from "../../src/runtime/kube-http.ts";
import { type ApiProxy, startApiProxy } from "../support/api-proxy.ts";
import { eventually, readUntil, testNamespace, uniqueName } from "../support/cluster.ts";
import { type ControllerProcess, startControllerProcess } from "../support/controller-process.ts";
import { encode, importValue, mergePatch, rawClient, secretsPath, sleep, total } from "../support/faults.ts";
import {
  cred,
  createExport,
  createPlaceholder,
  createSource,
  expectAuths,
  expectImportReason,
  lastPlaceholderSeen,
  readPlaceholder,
  readSecretIfAny,
  updateSource,
} from "../support/fixtures.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";
import { eventsFor } from "../support/sharing.ts";

const plane = usePrivateControlPlane();

const ADMISSION = "/apis/admissionregistration.k8s.io/v1";
const FROZEN_LABEL = "e2e.secret-export.dev/frozen";

/**
 * A ValidatingAdmissionPolicy and its binding (cluster-scoped: deleted when the test ends) denying
 * UPDATEs matching `rule` in the namespaces labelled FROZEN_LABEL=`id` that fail `expression`.
 * Resolves once the API server enforces it, with a remove() that resolves once it no longer does.
 */
async function admissionPolicy(
  t: TestContext,
  http: KubeHttp,
  id: string,
  rule: { apiGroups: string[]; apiVersions: string[]; resources: string[] },
  expression: string,
  enforced: () => Promise<boolean>,
) {
  const policies = `${ADMISSION}/validatingadmissionpolicies`;
  const bindings = `${ADMISSION}/validatingadmissionpolicybindings`;
  const remove = async () => {
    for (const path of [`${bindings}/${id}`, `${policies}/${id}`])
      await http.request(path, { method: "DELETE" }).catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
  };
  t.after(remove);
  await http.request(policies, {
    method: "POST",
    body: {
      metadata: { name: id },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [{ ...rule, operations: ["UPDATE"] }] },
        validations: [{ expression, message: `frozen by the e2e policy ${id}` }],
      },
    },
  });
  await http.request(bindings, {
    method: "POST",
    body: {
      metadata: { name: id },
      spec: {
        policyName: id,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { [FROZEN_LABEL]: id } } },
      },
    },
  });
  await eventually("the policy is enforced", async () => ((await enforced()) ? true : undefined));
  return {
    async remove() {
      await remove();
      await eventually("the policy is no longer enforced", async () =>
        !(await enforced()) ? true : undefined,
      );
    },
  };
}

/** Whether a server-side dry run of this merge patch is refused (admission runs, nothing is stored). */
const dryRunRefused = (http: KubeHttp, path: string, body: unknown) => () =>
  http
    .request(path, {
      method: "PATCH",
      query: { dryRun: "All" },
      contentType: "application/merge-patch+json",
      body,
    })
    .then(
      () => false,
      (err: unknown) => statusOf(err) === 422,
    );

type StatusCondition = { type?: string; reason?: string; message?: string };
const conditionOf = (status: Record<string, unknown> | undefined) =>
  (status?.conditions as StatusCondition[] | undefined)?.[0];

describe("writes the API server rejects", () => {
  let proxy: ApiProxy;
  let controller: ControllerProcess;
  const http = rawClient();

  before(async () => {
    // Through a proxy, which logs the controller's writes per object.
    proxy = await startApiProxy(plane());
    controller = startControllerProcess(["--kubeconfig", proxy.kubeconfigPath, "--leader-elect", "false"]);
    await controller.port();
  });
  after(async () => {
    await controller.stop();
    await proxy.close();
  });

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

  test("a ValidatingAdmissionPolicy refusing data changes of Secrets in one namespace: its placeholder says WriteRejected (status annotation, one Warning Event) without a retry storm, the others are filled, and the next change once the policy is gone fills it", async (t) => {
    const id = uniqueName("freeze");
    const src = await testNamespace(t, "src");
    const frozen = await testNamespace(t, "frozen", { labels: { [FROZEN_LABEL]: id } });
    const open = await testNamespace(t, "open");
    const auths = (version: string) => ({ "frozen.example.com": cred("u", `password-${version}`) });
    await createSource(src, "creds", auths("v1"));
    await createExport(t, src, "creds", { toNamespaces: [frozen, open] });
    await createPlaceholder(frozen);
    await createPlaceholder(open);
    await expectAuths(frozen, auths("v1"));
    await expectAuths(open, auths("v1"));
    const placeholder = `${secretsPath(frozen)}/pull`;
    const policy = await admissionPolicy(
      t,
      http,
      id,
      { apiGroups: [""], apiVersions: ["v1"], resources: ["secrets"] },
      "object.data == oldObject.data",
      dryRunRefused(http, placeholder, {
        data: { [DOCKER_CONFIG_JSON_KEY]: encode('{"auths":{"probe.example.com":{"auth":"cA=="}}}') },
      }),
    );

    const writesToPlaceholder = () => proxy.writeLog.filter((w) => w.path === placeholder).length;
    const writesBefore = writesToPlaceholder();
    const changedAt = Date.now();
    await updateSource(src, "creds", auths("v2"));
    await expectAuths(open, auths("v2"));
    const read = await readUntil(
      `placeholder ${frozen}/pull says ${REASON_WRITE_REJECTED}`,
      () => readPlaceholder(frozen),
      (r) => conditionOf(r.status)?.reason === REASON_WRITE_REJECTED,
      lastPlaceholderSeen,
      30_000,
    );
    const reportedMs = Date.now() - changedAt;
    // The window in which a retry storm would show: the slow retry (minutes) must not come in it.
    await sleep(changedAt + 10_000 - Date.now());
    const writes = writesToPlaceholder() - writesBefore;
    const events = await eventsFor(frozen, "Secret", "pull", REASON_WRITE_REJECTED);
    t.diagnostic(
      JSON.stringify({
        reportedMs,
        writesToPlaceholderIn10s: writes,
        events: events.length,
        condition: conditionOf(read.status),
      }),
    );
    const condition = conditionOf(read.status);
    assert.equal(condition?.type, "ReconcileFailed");
    assert.match(String(condition?.message), new RegExp(`^Invalid: .*frozen by the e2e policy ${id}`));
    assert.deepEqual(read.auths, auths("v1"), "the placeholder keeps its data");
    assert.deepEqual(read.status?.sources, { "frozen.example.com": `${src}/creds` }, "and its provenance");
    assert.equal(events.length, 1, "one Warning Event");
    assert.equal(events[0]?.type, "Warning");
    assert.equal(events[0]?.message, condition?.message);
    assert.ok(writes >= 2 && writes <= 4, `${writes} writes to the placeholder in 10 s`);
    for (const secret of ["password-v2", encode("u:password-v2")])
      assert.ok(!JSON.stringify([read.status, events]).includes(secret), "never the refused credentials");

    await policy.remove();
    const healedAt = Date.now();
    await updateSource(src, "creds", auths("v3"));
    const filled = await expectAuths(frozen, auths("v3"), "pull", 30_000);
    t.diagnostic(JSON.stringify({ filledAfterPolicyRemovedMs: Date.now() - healedAt }));
    assert.equal(conditionOf(filled.status)?.type, "ReconcileSucceeded", "the condition is cleared");
  });

  test("a ValidatingAdmissionPolicy refusing SecretExport status writes: the export gets one Warning Event WriteRejected", async (t) => {
    const id = uniqueName("freeze");
    const src = await testNamespace(t, "src", { labels: { [FROZEN_LABEL]: id } });
    const dst = await testNamespace(t, "dst");
    await createSource(src, "creds", { "status.example.com": cred("u", "v1") });
    const exportStatus = `/apis/${GROUP}/${VERSION}/namespaces/${src}/secretexports/creds/status`;
    // A probe export whose status the policy must refuse before the real one is created.
    await createExport(t, src, "probe", { toNamespace: dst });
    await admissionPolicy(
      t,
      http,
      id,
      { apiGroups: [GROUP], apiVersions: [VERSION], resources: ["secretexports/status"] },
      "false",
      dryRunRefused(http, `/apis/${GROUP}/${VERSION}/namespaces/${src}/secretexports/probe/status`, {
        status: { friendlyDescription: "probe" },
      }),
    );
    const createdAt = Date.now();
    await createExport(t, src, "creds", { toNamespace: dst });
    const events = await eventually(`Event ${REASON_WRITE_REJECTED} on the export`, async () => {
      const found = await eventsFor(src, "SecretExport", "creds", REASON_WRITE_REJECTED);
      return found.length > 0 ? found : undefined;
    });
    const reportedMs = Date.now() - createdAt;
    await sleep(createdAt + 10_000 - Date.now());
    const writes = proxy.writeLog.filter((w) => w.path === exportStatus).length;
    const after = await eventsFor(src, "SecretExport", "creds", REASON_WRITE_REJECTED);
    t.diagnostic(
      JSON.stringify({
        reportedMs,
        statusWritesIn10s: writes,
        events: after.length,
        message: events[0]?.message,
      }),
    );
    assert.equal(events[0]?.type, "Warning");
    assert.match(String(events[0]?.message), new RegExp(`^Invalid: .*frozen by the e2e policy ${id}`));
    assert.equal(after.length, 1, "one Event, not one per retry");
    assert.ok(writes >= 1 && writes <= 3, `${writes} status writes in 10 s`);
  });
});
