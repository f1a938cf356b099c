// Which namespaces an export reaches (SPEC §2), against the real API server: globs, the exclusion
// annotation, label selectors and carvel's JSONPath selector, each re-evaluated as soon as a
// namespace changes, appears or starts being deleted. Globs and selectors are built on a prefix of
// this test only, so no export here reaches another test's namespaces (except the one "*" export,
// which offers a registry no other test checks).
import assert from "node:assert/strict";
import { test } from "node:test";
import { testNamespace } from "./support/cluster.ts";
import { core, useController } from "./support/controller.ts";
import { cred, createPlaceholder, expectAuths } from "./support/fixtures.ts";
import {
  excludeFromWildcards,
  expectExport,
  expectExportReason,
  expectFilled,
  offer,
  readyOf,
  setNamespaceAnnotations,
  setNamespaceLabels,
  quiescent,
  statusOf,
  uniquePrefix,
  uniqueRegistry,
} from "./support/sharing.ts";

const { controller } = useController();

const reaches = (namespace: string, name: string, count: number) =>
  expectExport(namespace, name, `reaches ${count} namespaces`, (e) => e.status?.namespacesReached === count);

test('the exclusion annotation stops glob and "*" exports reaching a namespace while exact names and selectors still do, and removing it restores them', async (t) => {
  const prefix = uniquePrefix();
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, `${prefix}-app`, { labels: { "e2e.example.com/selected": prefix } });
  const [star, glob, exact, labelled, jsonPath] = ["star", "glob", "exact", "labelled", "jsonpath"].map(
    uniqueRegistry,
  ) as [string, string, string, string, string];
  await offer(t, source, "star", { [star]: cred("s", "s") }, { toNamespace: "*" });
  await offer(t, source, "glob", { [glob]: cred("g", "g") }, { toNamespaces: [`${prefix}-*`] });
  await offer(t, source, "exact", { [exact]: cred("e", "e") }, { toNamespaces: [app] });
  await offer(
    t,
    source,
    "labelled",
    { [labelled]: cred("l", "l") },
    { toNamespaceSelector: { matchLabels: { "e2e.example.com/selected": prefix } } },
  );
  await offer(
    t,
    source,
    "jsonpath",
    { [jsonPath]: cred("j", "j") },
    { dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "In", values: [app] }] },
  );
  await createPlaceholder(app);
  const everything = {
    [star]: cred("s", "s"),
    [glob]: cred("g", "g"),
    [exact]: cred("e", "e"),
    [labelled]: cred("l", "l"),
    [jsonPath]: cred("j", "j"),
  };
  await expectAuths(app, everything);

  await excludeFromWildcards(app, true);
  await expectAuths(app, { [exact]: cred("e", "e"), [labelled]: cred("l", "l"), [jsonPath]: cred("j", "j") });
  await reaches(source, "glob", 0);

  await excludeFromWildcards(app, false);
  await expectAuths(app, everything);
  await reaches(source, "glob", 1);
});

test("globs such as team-*, {dev,stage}-*, qa?-* and [xy]-* reach exactly the namespaces they match", async (t) => {
  const p = uniquePrefix();
  const source = await testNamespace(t, "src");
  const [team, env, single, klass] = ["team", "env", "single", "class"].map(uniqueRegistry) as [
    string,
    string,
    string,
    string,
  ];
  await offer(t, source, "team", { [team]: cred("t", "t") }, { toNamespaces: [`${p}-team-*`] });
  await offer(t, source, "env", { [env]: cred("e", "e") }, { toNamespace: `${p}-{dev,stage}-*` });
  await offer(t, source, "single", { [single]: cred("s", "s") }, { toNamespaces: [`${p}-qa?-*`] });
  await offer(t, source, "class", { [klass]: cred("c", "c") }, { toNamespaces: [`${p}-[xy]-*`] });
  for (const name of ["team", "env", "single", "class"]) await expectExportReason(source, name, "Exported");

  // testNamespace appends "-<hex>": p-team becomes p-team-1a2b3c4d.
  const expected: [string, Record<string, Record<string, string>>][] = [
    ["team", { [team]: cred("t", "t") }],
    ["dev", { [env]: cred("e", "e") }],
    ["stage", { [env]: cred("e", "e") }],
    ["qa1", { [single]: cred("s", "s") }],
    ["x", { [klass]: cred("c", "c") }],
    ["y", { [klass]: cred("c", "c") }],
    ["prod", {}],
    ["teams", {}],
    ["qa", {}],
    ["qa12", {}],
    ["z", {}],
  ];
  const namespaces = new Map<string, string>();
  for (const [suffix] of expected) {
    const namespace = await testNamespace(t, `${p}-${suffix}`);
    namespaces.set(suffix, namespace);
    await createPlaceholder(namespace);
  }
  for (const [suffix, auths] of expected) {
    const exportsReaching = Object.keys(auths).length > 0 ? 1 : 0;
    const filled = await expectAuths(namespaces.get(suffix) ?? "", auths);
    assert.equal(statusOf(filled).secretNames?.length ?? 0, exportsReaching, suffix);
  }
  await reaches(source, "team", 1);
  await reaches(source, "env", 2);
  await reaches(source, "single", 1);
  await reaches(source, "class", 2);
});

test("a namespace created after a glob export gets its placeholder filled without anything else changing", async (t) => {
  const p = uniquePrefix();
  const source = await testNamespace(t, "src");
  const registry = uniqueRegistry("new-ns");
  const key = await offer(t, source, "creds", { [registry]: cred("u", "p") }, { toNamespace: `${p}-*` });
  await expectExportReason(source, "creds", "Exported");
  await reaches(source, "creds", 0);
  await quiescent(controller());

  const app = await testNamespace(t, `${p}-app`);
  await createPlaceholder(app);
  await expectFilled(app, { [registry]: cred("u", "p") }, [key]);
  const counted = await reaches(source, "creds", 1);
  assert.equal(readyOf(counted.status)?.message, "Exported to 1 namespace");
});

test("a toNamespaceSelector reaches namespaces by label, and relabelling a namespace into or out of it takes effect at once", async (t) => {
  const p = uniquePrefix();
  const source = await testNamespace(t, "src");
  const selected = { "e2e.example.com/team": p };
  const inside = await testNamespace(t, "in", { labels: selected });
  const outside = await testNamespace(t, "out");
  const registry = uniqueRegistry("labels");
  const key = await offer(
    t,
    source,
    "creds",
    { [registry]: cred("u", "p") },
    {
      toNamespaceSelector: {
        matchLabels: selected,
        matchExpressions: [{ key: "e2e.example.com/tier", operator: "NotIn", values: ["legacy"] }],
      },
    },
  );
  await reaches(source, "creds", 1);
  await createPlaceholder(inside);
  await createPlaceholder(outside);
  await expectFilled(inside, { [registry]: cred("u", "p") }, [key]);
  await expectFilled(outside, {}, []);

  await setNamespaceLabels(outside, selected);
  await expectFilled(outside, { [registry]: cred("u", "p") }, [key]);
  await reaches(source, "creds", 2);

  await setNamespaceLabels(inside, { ...selected, "e2e.example.com/tier": "legacy" });
  await expectFilled(inside, {}, []);
  await reaches(source, "creds", 1);

  await setNamespaceLabels(outside, {});
  await expectFilled(outside, {}, []);
  await reaches(source, "creds", 0);
});

test("a dangerousToNamespacesSelector needs every requirement to hold: In, NotIn, Exists and DoesNotExist on labels and annotations with escaped dots", async (t) => {
  const p = uniquePrefix();
  const source = await testNamespace(t, "src");
  const registry = uniqueRegistry("jsonpath");
  const key = await offer(
    t,
    source,
    "creds",
    { [registry]: cred("u", "p") },
    {
      dangerousToNamespacesSelector: [
        { key: "metadata.labels.team\\.example\\.com/name", operator: "In", values: [p] },
        { key: "metadata.labels.env", operator: "NotIn", values: ["prod"] },
        { key: "metadata.annotations['owner\\.example\\.com/team']", operator: "Exists" },
        { key: "metadata.annotations.legacy\\.example\\.com/frozen", operator: "DoesNotExist" },
      ],
    },
  );
  await expectExportReason(source, "creds", "Exported");

  const team = { "team.example.com/name": p };
  const owner = { "owner.example.com/team": "payments" };
  const frozen = { ...owner, "legacy.example.com/frozen": "true" };
  const cases: [what: string, metadata: { labels: object; annotations: object }, reached: boolean][] = [
    [
      "no env label (a missing key reads as empty, which NotIn accepts)",
      { labels: team, annotations: owner },
      true,
    ],
    ["env=dev", { labels: { ...team, env: "dev" }, annotations: owner }, true],
    ["env=prod", { labels: { ...team, env: "prod" }, annotations: owner }, false],
    ["another team", { labels: { "team.example.com/name": `${p}-other` }, annotations: owner }, false],
    ["no owner annotation", { labels: team, annotations: {} }, false],
    ["the frozen annotation", { labels: team, annotations: frozen }, false],
  ];
  const namespaces: string[] = [];
  for (const [, metadata] of cases) {
    const namespace = await testNamespace(t, "sel", metadata as never);
    namespaces.push(namespace);
    await createPlaceholder(namespace);
  }
  for (const [i, [what, , reached]] of cases.entries()) {
    const namespace = namespaces[i] ?? "";
    await expectFilled(namespace, reached ? { [registry]: cred("u", "p") } : {}, reached ? [key] : []).catch(
      (err: unknown) => assert.fail(`${what}: ${(err as Error).message}`),
    );
  }
  await reaches(source, "creds", 2);

  // Annotation and label changes take effect at once.
  const [withoutEnv, , , , , frozenNs] = namespaces as [string, string, string, string, string, string];
  await setNamespaceAnnotations(frozenNs, owner);
  await expectFilled(frozenNs, { [registry]: cred("u", "p") }, [key]);
  await setNamespaceLabels(withoutEnv, { ...team, env: "prod" });
  await expectFilled(withoutEnv, {}, []);
  await reaches(source, "creds", 2);
});

test("a namespace being deleted is no longer reached", async (t) => {
  const source = await testNamespace(t, "src");
  const staying = await testNamespace(t, "app");
  const leaving = await testNamespace(t, "app");
  // A finalizer holds the namespace in Terminating while the test looks at it.
  await core().createNamespacedConfigMap({
    namespace: leaving,
    body: { metadata: { name: "hold", finalizers: ["e2e.example.com/hold"] } },
  });
  t.after(() =>
    core()
      .patchNamespacedConfigMap({
        namespace: leaving,
        name: "hold",
        body: [{ op: "remove", path: "/metadata/finalizers" }],
      })
      .catch(() => undefined),
  );
  await offer(
    t,
    source,
    "creds",
    { [uniqueRegistry("leaving")]: cred("u", "p") },
    { toNamespaces: [staying, leaving] },
  );
  await reaches(source, "creds", 2);

  await core().deleteNamespace({ name: leaving });
  const counted = await reaches(source, "creds", 1);
  assert.equal(readyOf(counted.status)?.message, "Exported to 1 namespace");
  const terminating = await core().readNamespace({ name: leaving });
  assert.equal(terminating.status?.phase, "Terminating");
});
