// SecretImport exactly as SPEC §4 says, against the real API server: a copy kept while the export
// reaches the namespace, removed when it stops, and never a Secret the import does not control.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import type { V1Secret } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../src/constants.ts";
import { eventually, readUntil, testNamespace, uniqueName } from "./support/cluster.ts";
import { core, customObjects, useController } from "./support/controller.ts";
import {
  createExport,
  createImport,
  createSource,
  createTypedSecret,
  cred,
  decodedData,
  deleteExport,
  deleteImport,
  dockerConfig,
  expectImportReason,
  type ImportRead,
  readImport,
  readSecretIfAny,
  updateSource,
} from "./support/fixtures.ts";
import { quiescent } from "./support/sharing.ts";

const { controller } = useController();

const SOURCE_VALUES = { username: "deploy", password: "s3cret" };
const IMPORT_LABELS = { team: "payments", "app.kubernetes.io/part-of": "shop" };
const IMPORT_ANNOTATIONS = { "example.com/owner": "platform team" };

/** Namespaces F (source) and N (import), an Opaque source F/name, an export of it to N, an import in N. */
async function imported(
  t: TestContext,
  options: { exportSpec?: (n: string) => Record<string, unknown>; nsLabels?: Record<string, string> } = {},
) {
  const from = await testNamespace(t, "from");
  const to = await testNamespace(t, "to", { labels: options.nsLabels ?? {} });
  const name = "creds";
  await createTypedSecret(from, name, "Opaque", SOURCE_VALUES, { labels: { "source-only": "yes" } });
  await createExport(t, from, name, options.exportSpec?.(to) ?? { toNamespace: to });
  const { uid } = await createImport(t, to, name, from, {
    labels: IMPORT_LABELS,
    annotations: IMPORT_ANNOTATIONS,
  });
  return { from, to, name, uid };
}

/** Waits until N/name is a Secret of this type holding exactly these plain-text values. */
const expectCopy = (
  namespace: string,
  name: string,
  values: Record<string, string>,
  type = "Opaque",
  timeoutMs = 15_000,
): Promise<V1Secret> =>
  readUntil(
    `copy ${namespace}/${name} of type ${type} holds ${JSON.stringify(Object.keys(values))}`,
    () => readSecretIfAny(namespace, name),
    (copy): copy is V1Secret => copy?.type === type && isDeepStrictEqual(decodedData(copy.data), values),
    (last) => `last seen ${JSON.stringify(last && { type: last.type, keys: Object.keys(last.data ?? {}) })}`,
    timeoutMs,
  );

async function expectGone(namespace: string, name: string, timeoutMs = 15_000): Promise<void> {
  await eventually(
    `Secret ${namespace}/${name} deleted`,
    async () => ((await readSecretIfAny(namespace, name)) === undefined ? true : undefined),
    timeoutMs,
  );
}

const readyOf = (read: ImportRead) => read.status?.conditions?.find((c) => c.type === "Ready");

const patchExportSpec = (namespace: string, name: string, spec: Record<string, unknown>) =>
  customObjects().patchNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "secretexports",
    name,
    body: [{ op: "replace", path: "/spec", value: spec }],
  });

const setNamespaceMetadata = (
  name: string,
  field: "labels" | "annotations",
  values: Record<string, string>,
) => core().patchNamespace({ name, body: [{ op: "add", path: `/metadata/${field}`, value: values }] });

test("an import keeps a copy with the source's type and data, the SecretImport's labels and annotations, and a controller ownerReference", async (t) => {
  const { from, to, name, uid } = await imported(t);
  const copy = await expectCopy(to, name, SOURCE_VALUES);
  assert.deepEqual(copy.metadata?.labels, { ...IMPORT_LABELS, "secretgen.carvel.dev/imported": "true" });
  assert.deepEqual(copy.metadata?.annotations, IMPORT_ANNOTATIONS);
  assert.deepEqual(
    copy.metadata?.ownerReferences?.map((ref) => ({ ...ref })),
    [
      {
        apiVersion: "secretgen.carvel.dev/v1alpha1",
        kind: "SecretImport",
        name,
        uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  );
  const status = (await expectImportReason(to, name, "Imported")).status;
  assert.equal(status?.friendlyDescription, "Reconcile succeeded");
  assert.deepEqual(status?.conditions?.[0], { type: "ReconcileSucceeded", status: "True" });
  assert.equal(readyOf(await readImport(to, name))?.status, "True");
  assert.equal(readyOf(await readImport(to, name))?.message, `Imported from ${from}/${name}`);
});

test("a source data change reaches the copy within seconds", async (t) => {
  const { from, to, name } = await imported(t);
  await expectCopy(to, name, SOURCE_VALUES);
  await core().patchNamespacedSecret({
    namespace: from,
    name,
    body: [{ op: "replace", path: "/data", value: { password: Buffer.from("rotated").toString("base64") } }],
  });
  await expectCopy(to, name, { password: "rotated" }, "Opaque", 5_000);
});

test("a rotated dockerconfigjson source reaches the copy within seconds", async (t) => {
  const from = await testNamespace(t, "from");
  const to = await testNamespace(t, "to");
  await createSource(from, "pull", { "registry.example.com": cred("u", "old") });
  await createExport(t, from, "pull", { toNamespace: to });
  await createImport(t, to, "pull", from);
  const type = "kubernetes.io/dockerconfigjson";
  await expectCopy(
    to,
    "pull",
    { ".dockerconfigjson": dockerConfig({ "registry.example.com": cred("u", "old") }) },
    type,
  );
  for (const password of ["new-1", "new-2", "new-3"]) {
    await updateSource(from, "pull", { "registry.example.com": cred("u", password) });
    const expected = { ".dockerconfigjson": dockerConfig({ "registry.example.com": cred("u", password) }) };
    await expectCopy(to, "pull", expected, type, 5_000);
  }
});

test("deleting a dockerconfigjson source deletes the copy", async (t) => {
  const from = await testNamespace(t, "from");
  const to = await testNamespace(t, "to");
  const auths = { "registry.example.com": cred("u", "p") };
  await createSource(from, "pull", auths);
  await createExport(t, from, "pull", { toNamespace: to });
  await createImport(t, to, "pull", from);
  await expectCopy(
    to,
    "pull",
    { ".dockerconfigjson": dockerConfig(auths) },
    "kubernetes.io/dockerconfigjson",
  );
  await core().deleteNamespacedSecret({ namespace: from, name: "pull" });
  await expectGone(to, "pull", 5_000);
  await expectImportReason(to, "pull", "NoMatchingExport");
});

test("an edit of the copy's data is undone", async (t) => {
  const { to, name } = await imported(t);
  await expectCopy(to, name, SOURCE_VALUES);
  const encode = (text: string) => Buffer.from(text).toString("base64");
  await core().patchNamespacedSecret({
    namespace: to,
    name,
    body: [{ op: "replace", path: "/data", value: { password: encode("tampered"), extra: encode("x") } }],
  });
  await expectCopy(to, name, SOURCE_VALUES, "Opaque", 5_000);
});

test("a deleted copy is recreated", async (t) => {
  const { to, name, uid } = await imported(t);
  const first = await expectCopy(to, name, SOURCE_VALUES);
  await core().deleteNamespacedSecret({ namespace: to, name });
  const second = await expectCopy(to, name, SOURCE_VALUES, "Opaque", 5_000);
  assert.notEqual(second.metadata?.uid, first.metadata?.uid);
  assert.equal(second.metadata?.ownerReferences?.[0]?.uid, uid);
});

test("deleting the export deletes the copy and reports No matching export/secret; re-creating it brings the copy back", async (t) => {
  const { from, to, name } = await imported(t);
  await expectCopy(to, name, SOURCE_VALUES);
  await deleteExport(from, name);
  await expectGone(to, name);
  const failed = await expectImportReason(to, name, "NoMatchingExport");
  assert.equal(failed.status?.friendlyDescription, "Reconcile failed: No matching export/secret");
  assert.deepEqual(failed.status?.conditions?.[0], {
    type: "ReconcileFailed",
    status: "True",
    message: "No matching export/secret",
  });
  const ready = readyOf(failed);
  assert.equal(ready?.status, "False");
  assert.equal(ready?.message, "No matching export/secret");

  await createExport(t, from, name, { toNamespace: to });
  await expectCopy(to, name, SOURCE_VALUES);
  await expectImportReason(to, name, "Imported");
});

test("an export changed to no longer reach the import's namespace deletes the copy", async (t) => {
  const { from, to, name } = await imported(t);
  await expectCopy(to, name, SOURCE_VALUES);
  await patchExportSpec(from, name, { toNamespace: uniqueName("elsewhere") });
  await expectGone(to, name);
  await expectImportReason(to, name, "NoMatchingExport");
});

test("deleting the source deletes the copy", async (t) => {
  const { from, to, name } = await imported(t);
  await expectCopy(to, name, SOURCE_VALUES);
  await core().deleteNamespacedSecret({ namespace: from, name });
  await expectGone(to, name);
  await expectImportReason(to, name, "NoMatchingExport");
});

test("a namespace relabelled out of the export's toNamespaceSelector loses the copy, and relabelled back gets it again", async (t) => {
  const label = uniqueName("tier");
  const { to, name } = await imported(t, {
    nsLabels: { [label]: "gold" },
    exportSpec: () => ({ toNamespaceSelector: { matchLabels: { [label]: "gold" } } }),
  });
  await expectCopy(to, name, SOURCE_VALUES);
  await setNamespaceMetadata(to, "labels", { [label]: "silver" });
  await expectGone(to, name);
  await expectImportReason(to, name, "NoMatchingExport");
  await setNamespaceMetadata(to, "labels", { [label]: "gold" });
  await expectCopy(to, name, SOURCE_VALUES);
  await expectImportReason(to, name, "Imported");
});

test("the wildcard-exclusion annotation on the namespace removes a copy reached by a glob", async (t) => {
  const prefix = uniqueName("glob");
  const from = await testNamespace(t, "from");
  const to = await testNamespace(t, prefix);
  const name = "creds";
  await createTypedSecret(from, name, "Opaque", SOURCE_VALUES);
  await createExport(t, from, name, { toNamespaces: [`${prefix}-*`] });
  await createImport(t, to, name, from);
  await expectCopy(to, name, SOURCE_VALUES);
  await setNamespaceMetadata(to, "annotations", {
    "secretgen.carvel.dev/excluded-from-wildcard-matching": "",
  });
  await expectGone(to, name);
  await expectImportReason(to, name, "NoMatchingExport");
});

test("a pre-existing Secret that is not the import's copy is never modified or deleted, and the import reports SecretExists", async (t) => {
  const from = await testNamespace(t, "from");
  const to = await testNamespace(t, "to");
  const name = "creds";
  await createTypedSecret(
    to,
    name,
    "Opaque",
    { mine: "do not touch" },
    { labels: { owner: "someone-else" } },
  );
  const before = await readSecretIfAny(to, name);
  const unchanged = async (when: string) => {
    await quiescent(controller());
    const now = await readSecretIfAny(to, name);
    assert.ok(now, `${when}: the foreign Secret still exists`);
    assert.deepEqual(decodedData(now.data), { mine: "do not touch" }, `${when}: data`);
    assert.deepEqual(now.metadata?.labels, { owner: "someone-else" }, `${when}: labels`);
    assert.equal(now.metadata?.ownerReferences, undefined, `${when}: ownerReferences`);
    assert.equal(
      now.metadata?.resourceVersion,
      before?.metadata?.resourceVersion,
      `${when}: resourceVersion`,
    );
  };

  await createTypedSecret(from, name, "Opaque", SOURCE_VALUES);
  await createExport(t, from, name, { toNamespace: to });
  await createImport(t, to, name, from);
  const exists = await expectImportReason(to, name, "SecretExists");
  assert.equal(readyOf(exists)?.status, "False");
  assert.match(String(readyOf(exists)?.message), new RegExp(`${to}/${name}`));
  await unchanged("import created");

  await deleteExport(from, name);
  await expectImportReason(to, name, "NoMatchingExport");
  await unchanged("export deleted");

  await deleteImport(to, name);
  await eventually("import deleted", () =>
    readImport(to, name).then(
      () => undefined,
      () => true,
    ),
  );
  await unchanged("import deleted");
});

test("deleting the SecretImport garbage-collects the copy through its ownerReference", async (t) => {
  const { to, name } = await imported(t);
  await expectCopy(to, name, SOURCE_VALUES);
  await deleteImport(to, name);
  await expectGone(to, name, 90_000);
});

test("a service-account-token source is refused with UnsupportedType and not copied", async (t) => {
  const from = await testNamespace(t, "from");
  const to = await testNamespace(t, "to");
  const name = "token";
  await core().createNamespacedServiceAccount({ namespace: from, body: { metadata: { name: "robot" } } });
  await createTypedSecret(
    from,
    name,
    "kubernetes.io/service-account-token",
    { token: "not-a-real-token" },
    { annotations: { "kubernetes.io/service-account.name": "robot" } },
  );
  await createExport(t, from, name, { toNamespace: to });
  await createImport(t, to, name, from);
  const refused = await expectImportReason(to, name, "UnsupportedType");
  assert.equal(readyOf(refused)?.status, "False");
  await quiescent(controller());
  assert.equal(await readSecretIfAny(to, name), undefined);
});

test("an import into its own fromNamespace is InvalidSpec and does not touch the source", async (t) => {
  const from = await testNamespace(t, "from");
  const name = "creds";
  await createTypedSecret(from, name, "Opaque", SOURCE_VALUES, { labels: { "source-only": "yes" } });
  await createExport(t, from, name, { toNamespace: from });
  const before = await readSecretIfAny(from, name);
  await createImport(t, from, name, from, { labels: IMPORT_LABELS, annotations: IMPORT_ANNOTATIONS });
  const invalid = await expectImportReason(from, name, "InvalidSpec");
  assert.equal(readyOf(invalid)?.status, "False");
  await quiescent(controller());
  const after = await readSecretIfAny(from, name);
  assert.equal(after?.metadata?.resourceVersion, before?.metadata?.resourceVersion);
  assert.equal(after?.metadata?.ownerReferences, undefined);
  assert.deepEqual(after?.metadata?.labels, { "source-only": "yes" });
  assert.deepEqual(decodedData(after?.data), SOURCE_VALUES);
});

test("a source type change replaces the copy with one of the new type", async (t) => {
  const { from, to, name, uid } = await imported(t);
  const first = await expectCopy(to, name, SOURCE_VALUES);
  await core().deleteNamespacedSecret({ namespace: from, name });
  const tls = { "tls.crt": "certificate", "tls.key": "private key" };
  await createTypedSecret(from, name, "kubernetes.io/tls", tls);
  const replaced = await expectCopy(to, name, tls, "kubernetes.io/tls");
  assert.notEqual(replaced.metadata?.uid, first.metadata?.uid);
  assert.equal(replaced.metadata?.ownerReferences?.[0]?.uid, uid);
  assert.deepEqual(replaced.metadata?.labels, { ...IMPORT_LABELS, "secretgen.carvel.dev/imported": "true" });
  await expectImportReason(to, name, "Imported");
});

test("a converged import costs zero writes on a resync", async (t) => {
  const { to, name } = await imported(t);
  await expectCopy(to, name, SOURCE_VALUES);
  await expectImportReason(to, name, "Imported");
  await quiescent(controller());
  const copyBefore = (await readSecretIfAny(to, name))?.metadata?.resourceVersion;
  const importBefore = (await readImport(to, name)).metadata.resourceVersion;
  controller().resyncNow();
  await quiescent(controller());
  assert.equal((await readSecretIfAny(to, name))?.metadata?.resourceVersion, copyBefore);
  assert.equal((await readImport(to, name)).metadata.resourceVersion, importBefore);
});
