// Placeholders filled exactly as SPEC §3 says, against the real API server: several exports merged
// in carvel's order, conflicts rejected and reported, weights resolving them, registry keys compared
// normalised, entries kept whole, bad sources isolated, and nothing written beyond what is ours.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { test } from "node:test";
import {
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_STATUS,
  ANNOTATION_WEIGHT,
  MESSAGE_WRONG_PLACEHOLDER_TYPE,
} from "../src/constants.ts";
import { testNamespace } from "./support/cluster.ts";
import { core, useController } from "./support/controller.ts";
import {
  type Auths,
  cred,
  createExport,
  createPlaceholder,
  createSource,
  decodedData,
  deleteExport,
  dockerConfig,
  expectAuths,
  readPlaceholder,
  updateSource,
} from "./support/fixtures.ts";
import {
  createDecoratedPlaceholder,
  eventsFor,
  expectEvent,
  expectExport,
  expectExportReason,
  expectFilled,
  expectPlaceholder,
  getExport,
  offer,
  readSecret,
  readyOf,
  setDockerConfigText,
  setExportAnnotations,
  quiescent,
  statusOf,
  uniquePrefix,
  uniqueRegistry,
} from "./support/sharing.ts";

const { controller, writes } = useController();

const firstCondition = (read: Awaited<ReturnType<typeof readPlaceholder>>) => statusOf(read).conditions?.[0];

test("a placeholder in a namespace the export names is filled with the source's credentials", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await createSource(source, "creds", { "registry.example.com": cred("u", "p") });
  await createExport(t, source, "creds", { toNamespace: app });
  await createPlaceholder(app);
  const filled = await expectAuths(app, { "registry.example.com": cred("u", "p") });
  assert.deepEqual(filled.status?.secretNames, [`${source}/creds`]);
});

test("a placeholder merges the registries two exports from two namespaces offer, and records where each came from", async (t) => {
  const teamA = await testNamespace(t, "src-a");
  const teamB = await testNamespace(t, "src-b");
  const app = await testNamespace(t, "app");
  const [a1, a2, b1] = [uniqueRegistry("a1"), uniqueRegistry("a2"), uniqueRegistry("b1")];
  const fromA = await offer(
    t,
    teamA,
    "creds",
    { [a1]: cred("a", "1"), [a2]: cred("a", "2") },
    { toNamespace: app },
  );
  const fromB = await offer(t, teamB, "pull-creds", { [b1]: cred("b", "1") }, { toNamespaces: [app] });
  await createPlaceholder(app);

  const filled = await expectFilled(
    app,
    { [a1]: cred("a", "1"), [a2]: cred("a", "2"), [b1]: cred("b", "1") },
    [fromA, fromB],
  );
  assert.deepEqual(firstCondition(filled), { type: "ReconcileSucceeded", status: "True" });
  assert.deepEqual(statusOf(filled).sources, { [a1]: fromA, [a2]: fromA, [b1]: fromB });
  // Registry keys sorted in the written document.
  const raw = Buffer.from(filled.data[".dockerconfigjson"] ?? "", "base64").toString();
  assert.deepEqual(Object.keys((JSON.parse(raw) as { auths: Auths }).auths), [a1, a2, b1].sort());
});

// SPEC §3.2: with identical credentials there is no conflict, and the key written is the one spelled
// by the most preferred export, so each order criterion shows in which spelling survives.
const SAME = cred("same", "same");

test("with identical credentials under two spellings, the export whose namespace/name sorts last wins", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await offer(t, source, "a-creds", { "docker.io": SAME }, { toNamespace: app });
  const last = await offer(t, source, "b-creds", { "index.docker.io": SAME }, { toNamespace: app });
  await createPlaceholder(app);
  const filled = await expectFilled(app, { "index.docker.io": SAME }, [`${source}/a-creds`, last]);
  assert.deepEqual(statusOf(filled).sources, { "index.docker.io": last });
  assert.deepEqual(firstCondition(filled), { type: "ReconcileSucceeded", status: "True" });
});

test("with identical credentials under two spellings, an export naming the namespace exactly wins over a glob", async (t) => {
  const prefix = uniquePrefix();
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, `${prefix}-app`);
  const exact = await offer(t, source, "a-creds", { "docker.io": SAME }, { toNamespace: app });
  await offer(
    t,
    source,
    "b-creds",
    { "https://index.docker.io/v1/": SAME },
    { toNamespace: `${prefix}-app-*` },
  );
  await createPlaceholder(app);
  const filled = await expectFilled(app, { "docker.io": SAME }, [exact, `${source}/b-creds`]);
  assert.deepEqual(statusOf(filled).sources, { "docker.io": exact });
});

test("with identical credentials under two spellings, a source in the placeholder's own namespace wins over an exact name", async (t) => {
  const prefix = uniquePrefix();
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, `${prefix}-app`);
  await offer(t, source, "z-creds", { "docker.io": SAME }, { toNamespace: app });
  const own = await offer(
    t,
    app,
    "a-creds",
    { "registry-1.docker.io": SAME },
    { toNamespace: `${prefix}-app-*` },
  );
  await createPlaceholder(app);
  const filled = await expectFilled(app, { "registry-1.docker.io": SAME }, [own, `${source}/z-creds`]);
  assert.deepEqual(statusOf(filled).sources, { "registry-1.docker.io": own });
});

test("with identical credentials under two spellings, the higher weight wins over every other criterion", async (t) => {
  const prefix = uniquePrefix();
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, `${prefix}-app`);
  const weighted = await offer(
    t,
    source,
    "a-creds",
    { "registry.hub.docker.com": SAME },
    { toNamespace: `${prefix}-app-*` },
    "0.5",
  );
  await offer(t, app, "z-creds", { "docker.io": SAME }, { toNamespace: app });
  await createPlaceholder(app);
  const filled = await expectFilled(app, { "registry.hub.docker.com": SAME }, [weighted, `${app}/z-creds`]);
  assert.deepEqual(statusOf(filled).sources, { "registry.hub.docker.com": weighted });
});

test("identical credentials for Docker Hub under index.docker.io and docker.io are one registry, not a conflict", async (t) => {
  const teamA = await testNamespace(t, "src-a");
  const teamB = await testNamespace(t, "src-b");
  const app = await testNamespace(t, "app");
  const fromA = await offer(t, teamA, "creds", { "index.docker.io": SAME }, { toNamespace: app });
  const fromB = await offer(t, teamB, "creds", { "docker.io": SAME }, { toNamespace: app });
  await createPlaceholder(app);
  const [, last] = [fromA, fromB].sort();
  const key = last === fromA ? "index.docker.io" : "docker.io";
  const filled = await expectFilled(app, { [key]: SAME }, [fromA, fromB]);
  assert.deepEqual(firstCondition(filled), { type: "ReconcileSucceeded", status: "True" });
  assert.equal(statusOf(filled).conflicts, undefined);
  await expectExportReason(teamA, "creds", "Exported");
  await expectExportReason(teamB, "creds", "Exported");
});

/**
 * Export A (first, `https://index.docker.io/v1/`) fills the placeholder; export B then offers different
 * docker.io credentials. Both also offer a registry of their own.
 */
async function conflicting(t: TestContext) {
  const teamA = await testNamespace(t, "src-a");
  const teamB = await testNamespace(t, "src-b");
  const app = await testNamespace(t, "app");
  const onlyA = uniqueRegistry("only-a");
  const onlyB = uniqueRegistry("only-b");
  await createPlaceholder(app);
  const a = await offer(
    t,
    teamA,
    "creds",
    { "https://index.docker.io/v1/": cred("alice", "a-pass"), [onlyA]: cred("a", "a") },
    { toNamespace: app },
  );
  await expectFilled(
    app,
    { "https://index.docker.io/v1/": cred("alice", "a-pass"), [onlyA]: cred("a", "a") },
    [a],
  );
  const b = await offer(
    t,
    teamB,
    "creds",
    { "docker.io": cred("bob", "b-pass"), [onlyB]: cred("b", "b") },
    { toNamespace: app },
  );
  const rejected = await expectPlaceholder(
    app,
    "ReconcileFailed with both exports",
    (read) => firstCondition(read)?.type === "ReconcileFailed" && statusOf(read).secretNames?.length === 2,
  );
  return { teamA, teamB, app, onlyA, onlyB, a, b, rejected };
}

test("different credentials for docker.io from two exports are a conflict: the placeholder keeps its entry and fills the rest, the exports report Conflict, and Warning Events are recorded once", async (t) => {
  const { teamA, teamB, app, onlyA, onlyB, a, b, rejected } = await conflicting(t);

  assert.deepEqual(rejected.auths, {
    "https://index.docker.io/v1/": cred("alice", "a-pass"),
    [onlyA]: cred("a", "a"),
    [onlyB]: cred("b", "b"),
  });
  const status = statusOf(rejected);
  assert.equal(status.conditions?.[0]?.status, "True");
  const message = status.conditions?.[0]?.message ?? "";
  assert.ok(message.includes('"docker.io"'), message);
  assert.ok(message.includes(a) && message.includes(b), message);
  assert.deepEqual(status.conflicts, [{ registry: "docker.io", exports: [a, b].sort() }]);
  assert.deepEqual(status.sources, { "https://index.docker.io/v1/": a, [onlyA]: a, [onlyB]: b });
  assert.deepEqual(status.secretNames, [a, b].sort());

  for (const [namespace, key] of [
    [teamA, a],
    [teamB, b],
  ] as const) {
    const exported = await expectExportReason(namespace, "creds", "Conflict");
    const ready = readyOf(exported.status);
    assert.equal(ready?.status, "False", key);
    assert.ok(ready?.message?.includes('"docker.io"') && ready.message.includes(app), ready?.message);
    assert.equal(exported.status?.friendlyDescription?.startsWith("Reconcile failed: "), true);
    assert.equal(exported.status?.conditions?.[0]?.type, "ReconcileFailed");
  }
  await expectEvent(app, "Secret", "pull", "ConflictDetected", "Warning");
  await expectEvent(teamA, "SecretExport", "creds", "ConflictDetected", "Warning");
  await expectEvent(teamB, "SecretExport", "creds", "ConflictDetected", "Warning");

  // Transitions only: a resync of a placeholder still in conflict records nothing more.
  await quiescent(controller());
  controller().resyncNow();
  await quiescent(controller());
  assert.equal((await eventsFor(app, "Secret", "pull", "ConflictDetected")).length, 1);
  assert.equal((await eventsFor(teamA, "SecretExport", "creds", "ConflictDetected")).length, 1);
  assert.equal((await eventsFor(teamB, "SecretExport", "creds", "ConflictDetected")).length, 1);
  assert.deepEqual((await readPlaceholder(app)).auths, rejected.auths);
});

test("a weight annotation on one of two conflicting exports makes its credentials win at once, the exports return to Exported and ConflictResolved Events are recorded", async (t) => {
  const { teamA, teamB, app, onlyA, onlyB, a, b } = await conflicting(t);
  await expectExportReason(teamB, "creds", "Conflict");

  await setExportAnnotations(teamB, "creds", { [ANNOTATION_WEIGHT]: "1" });
  const resolved = await expectAuths(app, {
    "docker.io": cred("bob", "b-pass"),
    [onlyA]: cred("a", "a"),
    [onlyB]: cred("b", "b"),
  });
  assert.deepEqual(firstCondition(resolved), { type: "ReconcileSucceeded", status: "True" });
  assert.equal(statusOf(resolved).conflicts, undefined);
  assert.deepEqual(statusOf(resolved).sources, { "docker.io": b, [onlyA]: a, [onlyB]: b });
  await expectExportReason(teamA, "creds", "Exported");
  await expectExportReason(teamB, "creds", "Exported");
  await expectEvent(app, "Secret", "pull", "ConflictResolved", "Normal");
  await expectEvent(teamA, "SecretExport", "creds", "ConflictResolved", "Normal");
  await expectEvent(teamB, "SecretExport", "creds", "ConflictResolved", "Normal");
});

test("when the export whose credentials a conflict kept is withdrawn, the other export's credentials are used and the conflict clears", async (t) => {
  const { teamA, teamB, app, onlyB, b } = await conflicting(t);
  await expectExportReason(teamB, "creds", "Conflict");

  await deleteExport(teamA, "creds");
  const after = await expectFilled(app, { "docker.io": cred("bob", "b-pass"), [onlyB]: cred("b", "b") }, [b]);
  assert.deepEqual(firstCondition(after), { type: "ReconcileSucceeded", status: "True" });
  await expectExportReason(teamB, "creds", "Exported");
  await expectEvent(app, "Secret", "pull", "ConflictResolved", "Normal");
});

test("different credentials under two keys of one export for the same registry are a conflict naming that export", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const other = uniqueRegistry("other");
  const key = await offer(
    t,
    source,
    "creds",
    {
      "docker.io": cred("one", "1"),
      "https://index.docker.io/v1/": cred("two", "2"),
      [other]: cred("o", "o"),
    },
    { toNamespace: app },
  );
  await createPlaceholder(app);
  const read = await expectPlaceholder(
    app,
    "ReconcileFailed",
    (r) => firstCondition(r)?.type === "ReconcileFailed",
  );
  assert.deepEqual(read.auths, { [other]: cred("o", "o") });
  const message = firstCondition(read)?.message ?? "";
  assert.ok(message.includes('"docker.io"') && message.includes(key), message);
  await expectExportReason(source, "creds", "Conflict");
});

test("entries keep every field, written compactly with registry keys sorted and username, password, auth first", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const full = uniqueRegistry("full");
  const tokenOnly = uniqueRegistry("token");
  const username = "robot";
  const password = "secret";
  const auth = Buffer.from("robot:secret").toString("base64");
  await offer(
    t,
    source,
    "creds",
    {
      [tokenOnly]: { identitytoken: "id-token" },
      [full]: {
        serveraddress: `https://${full}`,
        email: "robot@example.com",
        registrytoken: "reg-token",
        identitytoken: "id-token-2",
        auth,
        password,
        username,
      },
    },
    { toNamespace: app },
  );
  await createPlaceholder(app);
  const filled = await expectPlaceholder(app, "filled", (r) => Object.keys(r.auths ?? {}).length === 2);
  const fullJson =
    `{"username":"robot","password":"secret","auth":"${auth}","email":"robot@example.com",` +
    `"identitytoken":"id-token-2","registrytoken":"reg-token","serveraddress":"https://${full}"}`;
  const tokenJson = '{"identitytoken":"id-token"}';
  const entries = [
    [full, fullJson],
    [tokenOnly, tokenJson],
  ].sort(([x = ""], [y = ""]) => (x < y ? -1 : 1));
  const expected = `{"auths":{${entries.map(([k, v]) => `"${k}":${v}`).join(",")}}}`;
  assert.equal(decodedData(filled.data)[".dockerconfigjson"], expected);
});

test("an entry without any credential is skipped and reported on its export", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const good = uniqueRegistry("good");
  const empty = uniqueRegistry("empty");
  const blank = uniqueRegistry("blank");
  await offer(
    t,
    source,
    "creds",
    {
      [good]: cred("u", "p"),
      [empty]: {},
      [blank]: { username: "", password: "", auth: "" },
    },
    { toNamespace: app },
  );
  await createPlaceholder(app);
  const filled = await expectFilled(app, { [good]: cred("u", "p") }, [`${source}/creds`]);
  assert.deepEqual(firstCondition(filled), { type: "ReconcileSucceeded", status: "True" });
  const exported = await expectExport(source, "creds", "reports skipped entries", (e) =>
    (readyOf(e.status)?.message ?? "").includes("skipped"),
  );
  const ready = readyOf(exported.status);
  assert.equal(ready?.reason, "Exported");
  assert.ok(ready?.message?.includes(empty) && ready.message.includes(blank), ready?.message);
  assert.ok(!ready?.message?.includes(good), ready?.message);
});

test("a source whose .dockerconfigjson has the wrong shape does not stop other exports, keeps the registries it provided, and its export reports InvalidDockerConfig", async (t) => {
  const good = await testNamespace(t, "src-good");
  const bad = await testNamespace(t, "src-bad");
  const late = await testNamespace(t, "src-late");
  const app = await testNamespace(t, "app");
  const [fine, provided, added] = [
    uniqueRegistry("fine"),
    uniqueRegistry("provided"),
    uniqueRegistry("added"),
  ];
  const goodKey = await offer(t, good, "creds", { [fine]: cred("g", "v1") }, { toNamespace: app });
  const badKey = await offer(t, bad, "creds", { [provided]: cred("b", "b") }, { toNamespace: app });
  await createPlaceholder(app);
  await expectFilled(app, { [fine]: cred("g", "v1"), [provided]: cred("b", "b") }, [goodKey, badKey]);

  await setDockerConfigText(bad, "creds", '{"auths":{"x.example":"s3cr3t-value"}}');
  const invalid = await expectExportReason(bad, "creds", "InvalidDockerConfig");
  assert.equal(readyOf(invalid.status)?.status, "False");
  // It names what is wrong (never a value) and the namespaces affected.
  const why = readyOf(invalid.status)?.message ?? "";
  assert.ok(why.includes('auths["x.example"] must be an object') && why.includes(`namespaces ${app}`), why);
  assert.ok(!why.includes("s3cr3t-value"), why);
  const broken = await expectPlaceholder(
    app,
    "ReconcileFailed",
    (r) => firstCondition(r)?.type === "ReconcileFailed",
  );
  assert.ok(firstCondition(broken)?.message?.includes(badKey), firstCondition(broken)?.message);
  assert.deepEqual(broken.auths, { [fine]: cred("g", "v1"), [provided]: cred("b", "b") });

  // Other exports still reach the placeholder: a rotation and a new export both land.
  await updateSource(good, "creds", { [fine]: cred("g", "v2") });
  const lateKey = await offer(t, late, "creds", { [added]: cred("l", "l") }, { toNamespace: app });
  await expectFilled(app, { [fine]: cred("g", "v2"), [provided]: cred("b", "b"), [added]: cred("l", "l") }, [
    goodKey,
    badKey,
    lateKey,
  ]);
  await expectExportReason(good, "creds", "Exported");

  // Kept only while the export that provided it still reaches the namespace.
  await deleteExport(bad, "creds");
  const after = await expectFilled(app, { [fine]: cred("g", "v2"), [added]: cred("l", "l") }, [
    goodKey,
    lateKey,
  ]);
  assert.deepEqual(firstCondition(after), { type: "ReconcileSucceeded", status: "True" });
});

test("a placeholder that is not of type dockerconfigjson gets ReconcileFailed and its data is left untouched", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await offer(t, source, "creds", { [uniqueRegistry("typed")]: cred("u", "p") }, { toNamespace: app });
  await createPlaceholder(app, "pull", { type: "Opaque", data: { token: "keep-me" } });
  const read = await expectPlaceholder(app, "has a status annotation", (r) => r.status !== undefined);
  assert.deepEqual(read.status, {
    conditions: [{ type: "ReconcileFailed", status: "True", message: MESSAGE_WRONG_PLACEHOLDER_TYPE }],
  });
  assert.deepEqual(decodedData(read.data), { token: "keep-me" });
  const secret = await readSecret(app, "pull");
  assert.equal(secret.type, "Opaque");
});

test("a placeholder created after the export is filled without anything else changing", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const registry = uniqueRegistry("late");
  const key = await offer(t, source, "creds", { [registry]: cred("u", "p") }, { toNamespace: app });
  await expectExport(source, "creds", "reaches 1 namespace", (e) => e.status?.namespacesReached === 1);
  await quiescent(controller());
  await createPlaceholder(app, "late-pull");
  await expectFilled(app, { [registry]: cred("u", "p") }, [key], "late-pull");
});

test("filling a placeholder leaves its other data keys, labels and annotations alone", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const registry = uniqueRegistry("decorated");
  await offer(t, source, "creds", { [registry]: cred("u", "v1") }, { toNamespace: app });
  const labels = { "app.kubernetes.io/name": "web", tier: "frontend" };
  const annotations = { "example.com/note": "mine", "kapp.k14s.io/identity": "v1;app/Secret/pull" };
  await createDecoratedPlaceholder(app, "pull", {
    data: { ".dockerconfigjson": '{"auths":{}}', "extra.txt": "hello", config: "a=b" },
    labels,
    annotations,
  });

  const check = async () => {
    const secret = await readSecret(app, "pull");
    assert.deepEqual(secret.metadata?.labels, labels);
    const { [ANNOTATION_STATUS]: status, ...others } = secret.metadata?.annotations ?? {};
    assert.ok(status !== undefined);
    assert.deepEqual(others, { [ANNOTATION_IMAGE_PULL_SECRET]: "", ...annotations });
    const data = decodedData(secret.data);
    assert.equal(data["extra.txt"], "hello");
    assert.equal(data.config, "a=b");
    assert.deepEqual(Object.keys(data).sort(), [".dockerconfigjson", "config", "extra.txt"]);
  };
  await expectAuths(app, { [registry]: cred("u", "v1") });
  await check();
  await updateSource(source, "creds", { [registry]: cred("u", "v2") });
  await expectAuths(app, { [registry]: cred("u", "v2") });
  await check();
});

test("an edit of a placeholder's credentials is undone", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const registry = uniqueRegistry("guarded");
  await offer(t, source, "creds", { [registry]: cred("u", "p") }, { toNamespace: app });
  await createPlaceholder(app);
  await expectAuths(app, { [registry]: cred("u", "p") });

  await core().patchNamespacedSecret({
    namespace: app,
    name: "pull",
    body: [
      {
        op: "replace",
        path: "/data/.dockerconfigjson",
        value: Buffer.from(
          dockerConfig({ [registry]: cred("mallory", "x"), "evil.example": cred("m", "m") }),
        ).toString("base64"),
      },
    ],
  });
  await expectAuths(app, { [registry]: cred("u", "p") });
});

test("a converged placeholder costs zero writes on a resync", async (t) => {
  const teamA = await testNamespace(t, "src-a");
  const teamB = await testNamespace(t, "src-b");
  const app = await testNamespace(t, "app");
  const [r1, r2] = [uniqueRegistry("r1"), uniqueRegistry("r2")];
  const a = await offer(t, teamA, "creds", { [r1]: cred("a", "a") }, { toNamespace: app });
  const b = await offer(t, teamB, "creds", { [r2]: cred("b", "b") }, { toNamespace: app });
  await createPlaceholder(app);
  await expectFilled(app, { [r1]: cred("a", "a"), [r2]: cred("b", "b") }, [a, b]);
  await quiescent(controller());
  const before = (await readPlaceholder(app)).resourceVersion;
  const exportBefore = (await getExport(teamA, "creds")).metadata.resourceVersion;
  const writesBefore = await writes();

  controller().resyncNow();
  await quiescent(controller());
  assert.equal((await readPlaceholder(app)).resourceVersion, before);
  assert.equal((await getExport(teamA, "creds")).metadata.resourceVersion, exportBefore);
  // Not even a no-op patch (which would leave resourceVersion alone) or an Event.
  assert.equal(await writes(), writesBefore);
});
