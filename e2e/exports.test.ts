// SecretExport as SPEC §1-§3 says, against the real API server: its status fields, what happens to
// the placeholders it feeds when its source rotates or disappears or it is withdrawn, and invalid
// specs reported with the field named and never evaluated.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testNamespace, uniqueName } from "./support/cluster.ts";
import { useController } from "./support/controller.ts";
import {
  createExport,
  createPlaceholder,
  createSource,
  cred,
  deleteExport,
  expectAuths,
  updateSource,
} from "./support/fixtures.ts";
import {
  deleteSecret,
  expectExport,
  expectExportReason,
  expectFilled,
  getExport,
  patchExportSpec,
  readSecret,
  readyOf,
  quiescent,
  uniquePrefix,
  uniqueRegistry,
} from "./support/sharing.ts";

const { controller, writes } = useController();

test("an export reports observedGeneration, observedSecretResourceVersion, the namespaces it reaches and Reconcile succeeded", async (t) => {
  const source = await testNamespace(t, "src");
  const first = await testNamespace(t, "app");
  const second = await testNamespace(t, "app");
  const registry = uniqueRegistry("status");
  await createSource(source, "creds", { [registry]: cred("u", "p") });
  await createExport(t, source, "creds", { toNamespaces: [first, second, uniqueName("absent")] });

  const created = await expectExport(
    source,
    "creds",
    "reaches 2 namespaces",
    (e) => e.status?.namespacesReached === 2,
  );
  const sourceVersion = (await readSecret(source, "creds")).metadata?.resourceVersion;
  assert.equal(created.status?.observedGeneration, created.metadata.generation);
  assert.equal(created.status?.observedSecretResourceVersion, sourceVersion);
  assert.equal(created.status?.friendlyDescription, "Reconcile succeeded");
  assert.deepEqual(created.status?.conditions?.[0], { type: "ReconcileSucceeded", status: "True" });
  const ready = readyOf(created.status);
  assert.equal(ready?.status, "True");
  assert.equal(ready?.reason, "Exported");
  assert.equal(ready?.message, "Exported to 2 namespaces");
  assert.equal(ready?.observedGeneration, created.metadata.generation);
  assert.ok(ready?.lastTransitionTime && !Number.isNaN(Date.parse(ready.lastTransitionTime)));

  await patchExportSpec(source, "creds", { toNamespaces: [first] });
  const changed = await expectExport(
    source,
    "creds",
    "observes the new generation and reaches 1 namespace",
    (e) => e.status?.observedGeneration === e.metadata.generation && e.status.namespacesReached === 1,
  );
  assert.ok(changed.metadata.generation > created.metadata.generation);
  assert.equal(readyOf(changed.status)?.message, "Exported to 1 namespace");
  assert.equal(readyOf(changed.status)?.observedGeneration, changed.metadata.generation);
  // Ready stayed True, so its lastTransitionTime did not move.
  assert.equal(readyOf(changed.status)?.lastTransitionTime, ready.lastTransitionTime);

  await updateSource(source, "creds", { [registry]: cred("u", "rotated") });
  const rotatedVersion = (await readSecret(source, "creds")).metadata?.resourceVersion;
  assert.notEqual(rotatedVersion, sourceVersion);
  await expectExport(
    source,
    "creds",
    `observedSecretResourceVersion ${rotatedVersion}`,
    (e) => e.status?.observedSecretResourceVersion === rotatedVersion,
  );
});

test("a rotated source reaches every placeholder it feeds within seconds", async (t) => {
  const source = await testNamespace(t, "src");
  const apps = [await testNamespace(t, "app"), await testNamespace(t, "app"), await testNamespace(t, "app")];
  const registry = uniqueRegistry("rotate");
  const other = uniqueRegistry("stays");
  await createSource(source, "creds", { [registry]: cred("u", "v1"), [other]: cred("o", "o") });
  await createExport(t, source, "creds", { toNamespaces: apps });
  for (const app of apps) await createPlaceholder(app);
  for (const app of apps) await expectAuths(app, { [registry]: cred("u", "v1"), [other]: cred("o", "o") });

  const started = Date.now();
  await updateSource(source, "creds", { [registry]: cred("u", "v2"), [other]: cred("o", "o") });
  await Promise.all(
    apps.map((app) =>
      expectAuths(app, { [registry]: cred("u", "v2"), [other]: cred("o", "o") }, "pull", 5_000),
    ),
  );
  t.diagnostic(`rotation reached ${apps.length} placeholders in ${Date.now() - started} ms`);
});

test("deleting an export removes its registries from the placeholders it fed and keeps those of other exports", async (t) => {
  const first = await testNamespace(t, "src");
  const second = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const withdrawn = uniqueRegistry("withdrawn");
  const kept = uniqueRegistry("kept");
  await createSource(first, "creds", { [withdrawn]: cred("w", "w") });
  await createSource(second, "creds", { [kept]: cred("k", "k") });
  await createExport(t, first, "creds", { toNamespace: app });
  await createExport(t, second, "creds", { toNamespace: app });
  await createPlaceholder(app);
  await expectFilled(app, { [withdrawn]: cred("w", "w"), [kept]: cred("k", "k") }, [
    `${first}/creds`,
    `${second}/creds`,
  ]);

  await deleteExport(first, "creds");
  await expectFilled(app, { [kept]: cred("k", "k") }, [`${second}/creds`]);

  await deleteExport(second, "creds");
  const empty = await expectFilled(app, {}, []);
  assert.equal(Buffer.from(empty.data[".dockerconfigjson"] ?? "", "base64").toString(), '{"auths":{}}');
});

test("deleting the source removes its registries and the export reports SecretNotFound with Missing exported secret", async (t) => {
  const source = await testNamespace(t, "src");
  const other = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const gone = uniqueRegistry("gone");
  const kept = uniqueRegistry("kept");
  await createSource(source, "creds", { [gone]: cred("g", "g") });
  await createSource(other, "creds", { [kept]: cred("k", "k") });
  await createExport(t, source, "creds", { toNamespace: app });
  await createExport(t, other, "creds", { toNamespace: app });
  await createPlaceholder(app);
  await expectFilled(app, { [gone]: cred("g", "g"), [kept]: cred("k", "k") }, [
    `${other}/creds`,
    `${source}/creds`,
  ]);

  await deleteSecret(source, "creds");
  await expectFilled(app, { [kept]: cred("k", "k") }, [`${other}/creds`]);
  const missing = await expectExportReason(source, "creds", "SecretNotFound");
  assert.equal(readyOf(missing.status)?.status, "False");
  assert.equal(readyOf(missing.status)?.message, "Missing exported secret");
  assert.deepEqual(missing.status?.conditions?.[0], {
    type: "ReconcileFailed",
    status: "True",
    message: "Missing exported secret",
  });
  assert.equal(missing.status?.friendlyDescription, "Reconcile failed: Missing exported secret");
  assert.equal(missing.status?.observedSecretResourceVersion, undefined);

  // The export still stands: a source created again is offered again.
  await createSource(source, "creds", { [gone]: cred("g", "back") });
  await expectFilled(app, { [gone]: cred("g", "back"), [kept]: cred("k", "k") }, [
    `${other}/creds`,
    `${source}/creds`,
  ]);
  await expectExportReason(source, "creds", "Exported");
});

test("an export changed to name another namespace leaves the first namespace's placeholder and fills the second's", async (t) => {
  const source = await testNamespace(t, "src");
  const before = await testNamespace(t, "app");
  const after = await testNamespace(t, "app");
  const registry = uniqueRegistry("moved");
  await createSource(source, "creds", { [registry]: cred("u", "p") });
  await createExport(t, source, "creds", { toNamespace: before });
  await createPlaceholder(before);
  await createPlaceholder(after);
  await expectFilled(before, { [registry]: cred("u", "p") }, [`${source}/creds`]);

  await patchExportSpec(source, "creds", { toNamespace: after });
  await expectFilled(after, { [registry]: cred("u", "p") }, [`${source}/creds`]);
  await expectFilled(before, {}, []);
});

/** Specs the CRD accepts that the controller must report as invalid, and the field each names. */
const INVALID_SPECS: {
  what: string;
  spec: (app: string, prefix: string) => Record<string, unknown>;
  field: string;
}[] = [
  {
    what: "an unclosed glob class",
    spec: (app, prefix) => ({ toNamespaces: [app, `${prefix}-[a-`] }),
    field: "spec.toNamespaces[1]",
  },
  {
    what: "an unclosed glob brace",
    spec: (app, prefix) => ({ toNamespace: `${prefix}-{dev,stage-*`, toNamespaces: [app] }),
    field: "spec.toNamespace",
  },
  {
    what: "a dangerousToNamespacesSelector In without values",
    spec: (app) => ({
      toNamespace: app,
      dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "In" }],
    }),
    field: "spec.dangerousToNamespacesSelector[0].values",
  },
  {
    what: "a dangerousToNamespacesSelector Exists with values",
    spec: (app) => ({
      toNamespace: app,
      dangerousToNamespacesSelector: [
        { key: "metadata.name", operator: "In", values: [app] },
        { key: "metadata.labels.team", operator: "Exists", values: ["a"] },
      ],
    }),
    field: "spec.dangerousToNamespacesSelector[1].values",
  },
  {
    what: "an unsupported JSONPath key",
    spec: (app) => ({
      toNamespace: app,
      dangerousToNamespacesSelector: [{ key: "metadata.labels[?(@.team)]", operator: "Exists" }],
    }),
    field: "spec.dangerousToNamespacesSelector[0].key",
  },
  {
    what: "a toNamespaceSelector with an invalid label key",
    spec: (app) => ({
      toNamespace: app,
      toNamespaceSelector: { matchExpressions: [{ key: "not a key!", operator: "In", values: ["x"] }] },
    }),
    field: "spec.toNamespaceSelector.matchExpressions[0].key",
  },
  {
    what: "no destination at all",
    spec: () => ({}),
    field: "spec",
  },
];

for (const { what, spec, field } of INVALID_SPECS) {
  test(`an export with ${what} is InvalidSpec naming ${field} and reaches no namespace, not even one it names`, async (t) => {
    const prefix = uniquePrefix();
    const source = await testNamespace(t, "src");
    const app = await testNamespace(t, "app");
    const registry = uniqueRegistry("invalid");
    await createSource(source, "creds", { [registry]: cred("u", "p") });
    await createExport(t, source, "creds", spec(app, prefix));

    const invalid = await expectExportReason(source, "creds", "InvalidSpec");
    const ready = readyOf(invalid.status);
    assert.equal(ready?.status, "False");
    assert.match(ready?.message ?? "", /^Validation errors:\n- /);
    assert.ok(ready?.message?.includes(`- ${field}: `), `message names ${field}: ${ready?.message}`);
    assert.equal(invalid.status?.conditions?.[0]?.type, "ReconcileFailed");
    assert.equal(invalid.status?.conditions?.[0]?.message, ready?.message);
    assert.match(invalid.status?.friendlyDescription ?? "", /^Reconcile failed: Validation errors:/);
    assert.equal(invalid.status?.namespacesReached, 0);

    // A placeholder in the namespace it names is filled without it: it is never evaluated.
    await createPlaceholder(app);
    await expectFilled(app, {}, []);
    controller().resyncNow();
    await quiescent(controller());
    await expectFilled(app, {}, []);
  });
}

test("an export whose spec becomes invalid stops feeding the placeholders it fed, and feeds them again once fixed", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const registry = uniqueRegistry("broken");
  await createSource(source, "creds", { [registry]: cred("u", "p") });
  await createExport(t, source, "creds", { toNamespace: app });
  await createPlaceholder(app);
  await expectFilled(app, { [registry]: cred("u", "p") }, [`${source}/creds`]);

  await patchExportSpec(source, "creds", { toNamespaces: [app, "team-[z-a]"] });
  const invalid = await expectExportReason(source, "creds", "InvalidSpec");
  assert.ok(readyOf(invalid.status)?.message?.includes("- spec.toNamespaces[1]: "));
  await expectFilled(app, {}, []);

  await patchExportSpec(source, "creds", { toNamespaces: [app] });
  await expectExportReason(source, "creds", "Exported");
  await expectFilled(app, { [registry]: cred("u", "p") }, [`${source}/creds`]);
});

test("a converged export costs zero writes on a resync", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await createSource(source, "creds", { [uniqueRegistry("quiet")]: cred("u", "p") });
  await createExport(t, source, "creds", { toNamespace: app });
  await expectExport(source, "creds", "reaches 1 namespace", (e) => e.status?.namespacesReached === 1);
  await quiescent(controller());
  const before = (await getExport(source, "creds")).metadata.resourceVersion;
  const writesBefore = await writes();
  controller().resyncNow();
  await quiescent(controller());
  assert.equal((await getExport(source, "creds")).metadata.resourceVersion, before);
  // Not even a no-op patch (which would leave resourceVersion alone) or an Event.
  assert.equal(await writes(), writesBefore);
});
