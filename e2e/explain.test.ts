// `secret-export-controller explain` as a process against the real API server: what it reports about
// rules, registries, conflicts and imports, that it agrees with what the controller did, and that it
// never prints a credential.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { test, type TestContext } from "node:test";
import { RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { promisify } from "node:util";
import { ANNOTATION_EXCLUDED_FROM_WILDCARD } from "../src/constants.ts";
import type {
  Explanation,
  ExportExplanation,
  PlaceholderExplanation,
  ReachingExport,
  NotReachingExport,
} from "../src/explain/explain.ts";
import {
  adminKubeConfig,
  eventually,
  ignoreNotFound,
  serviceAccountKubeConfig,
  testNamespace,
  uniqueName,
} from "./support/cluster.ts";
import { useController } from "./support/controller.ts";
import {
  createExport,
  createImport,
  createPlaceholder,
  createSource,
  createTypedSecret,
  cred,
  expectAuths,
  expectReadyReason,
  readPlaceholder,
  readSecretIfAny,
} from "./support/fixtures.ts";

useController();

const execute = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

const explainCli = (namespace: string, ...args: string[]) =>
  explainAs(process.env.SEC_E2E_KUBECONFIG ?? "", namespace, ...args);

async function explainAs(kubeconfig: string, namespace: string, ...args: string[]): Promise<string> {
  const { stdout } = await execute(
    process.execPath,
    ["src/cli.ts", "explain", "--kubeconfig", kubeconfig, "--namespace", namespace, ...args],
    { cwd: root, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

const explainJson = async (namespace: string, ...args: string[]) =>
  JSON.parse(await explainCli(namespace, "-o", "json", ...args)) as Explanation;

function exportOf(e: Explanation, key: string): ExportExplanation {
  const found = e.exports.find((x) => x.export === key);
  assert.ok(found, `explain does not list ${key}`);
  return found;
}

const reaching = (e: Explanation, key: string) => {
  const found = exportOf(e, key);
  assert.ok(found.reached, `${key} should reach ${e.namespace.name}: ${JSON.stringify(found)}`);
  return found as ReachingExport;
};

const notReaching = (e: Explanation, key: string) => {
  const found = exportOf(e, key);
  assert.ok(!found.reached, `${key} should not reach ${e.namespace.name}`);
  return found as NotReachingExport;
};

test("explain reports rules, registries, conflicts and imports, as the controller acts on them", async (t) => {
  // Every namespace of this test starts with a unique tag, so the glob reaches none of anyone else's.
  const tag = uniqueName("xp");
  const src = await testNamespace(t, `${tag}-src`);
  const app = await testNamespace(t, `${tag}-app`, { labels: { "explain-test": tag, tier: tag } });
  const excluded = await testNamespace(t, `${tag}-excl`, {
    annotations: { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: "" },
  });
  const credentials = {
    docker: cred("docker-user-e2e", "docker-pass-e2e"),
    ghcr: cred("ghcr-user-e2e", "ghcr-pass-e2e"),
    quay1: cred("quay-one-user-e2e", "quay-one-pass-e2e"),
    quay2: cred("quay-two-user-e2e", "quay-two-pass-e2e"),
  };
  const opaqueValue = "opaque-db-password-e2e";

  await createSource(src, "exact", { "docker.io": credentials.docker, "quay.io": credentials.quay1 });
  await createExport(t, src, "exact", { toNamespaces: [app, excluded] });
  await createSource(src, "glob", { "ghcr.io": credentials.ghcr });
  await createExport(t, src, "glob", { toNamespace: `${tag}-*` });
  await createSource(src, "selector", { "https://quay.io/v2/": credentials.quay2 });
  await createExport(t, src, "selector", { toNamespaceSelector: { matchLabels: { "explain-test": tag } } });
  await createTypedSecret(src, "db", "Opaque", { password: opaqueValue });
  await createExport(t, src, "db", {
    dangerousToNamespacesSelector: [{ key: "metadata.labels.tier", operator: "In", values: [tag] }],
  });
  await createTypedSecret(src, "elsewhere", "Opaque", { password: opaqueValue });
  await createExport(t, src, "elsewhere", { toNamespace: src });
  // The placeholder comes once the controller has seen every export, so that the conflict is there
  // from its first fill and the registry is left out (not kept from an earlier fill).
  for (const name of ["exact", "glob", "selector", "db", "elsewhere"]) {
    await expectReadyReason(src, name, "Exported");
  }
  await createPlaceholder(app);
  await createImport(t, app, "db", src);
  await createImport(t, app, "elsewhere", src);
  await createImport(t, app, "missing", src);

  // The controller fills the placeholder (quay.io is a conflict, left out) and copies db. Another
  // test's "*" export may add a registry of its own: only ours are checked exactly.
  await eventually(`placeholder ${app}/pull filled`, async () => {
    const { auths } = await readPlaceholder(app);
    return auths?.["docker.io"] && auths["ghcr.io"] && !auths["quay.io"] ? true : undefined;
  });
  await eventually(`copy ${app}/db`, () => readSecretIfAny(app, "db"));

  // An explanation of the placeholder exactly as read before and after it.
  const { e, filled } = await eventually("explain sees the controller's work", async () => {
    const before = await readPlaceholder(app);
    const explained = await explainJson(app);
    const after = await readPlaceholder(app);
    const pull = explained.placeholders.find((p) => p.name === "pull");
    const db = explained.imports.find((i) => i.name === "db");
    const settled = before.resourceVersion === after.resourceVersion;
    return settled && pull?.sync === "inSync" && db?.copy === "inSync"
      ? { e: explained, filled: after }
      : undefined;
  });
  const pull = e.placeholders.find((p) => p.name === "pull") as PlaceholderExplanation;
  const ours = (key: string) => key.startsWith(`${src}/`);

  await t.test("which exports reach the namespace and by which rule", () => {
    assert.equal(e.schemaVersion, 1);
    assert.equal(e.namespace.name, app);
    assert.deepEqual(e.namespace.labels, {
      "explain-test": tag,
      "kubernetes.io/metadata.name": app,
      tier: tag,
    });
    assert.equal(reaching(e, `${src}/exact`).rule, "exactName");
    assert.equal(reaching(e, `${src}/exact`).detail, "listed in spec.toNamespaces[0]");
    assert.equal(reaching(e, `${src}/glob`).rule, "glob");
    assert.equal(reaching(e, `${src}/selector`).rule, "labelSelector");
    assert.equal(reaching(e, `${src}/db`).rule, "jsonPathSelector");
    assert.equal(reaching(e, `${src}/db`).placeholderCandidate, false);
    assert.deepEqual(reaching(e, `${src}/db`).source, {
      exists: true,
      type: "Opaque",
      registries: [],
      skipped: [],
      unreadable: null,
      registryCredential: null,
    });
    assert.deepEqual(reaching(e, `${src}/exact`).source.registries, ["docker.io", "quay.io"]);
    assert.equal(notReaching(e, `${src}/elsewhere`).reason, "noMatch");
    const mine = e.exports.map((x) => x.export).filter(ours);
    assert.deepEqual(mine, [
      `${src}/db`,
      `${src}/elsewhere`,
      `${src}/exact`,
      `${src}/glob`,
      `${src}/selector`,
    ]);
  });

  await t.test("the registries of the placeholder, from which export, agreeing with what was written", () => {
    assert.deepEqual(
      pull.registries.filter((r) => ours(r.export)).map((r) => [r.registry, r.export, r.choice]),
      [
        ["docker.io", `${src}/exact`, "onlyOffer"],
        ["ghcr.io", `${src}/glob`, "onlyOffer"],
      ],
    );
    assert.deepEqual(
      pull.registries.map((r) => r.registry),
      Object.keys(filled.auths ?? {}),
    );
    assert.deepEqual(
      Object.fromEntries(pull.registries.map((r) => [r.registry, r.export])),
      filled.status?.sources,
    );
    assert.deepEqual(filled.auths?.["docker.io"], credentials.docker);
    assert.equal(pull.sync, "inSync");
    assert.deepEqual(pull.changes, []);
    assert.equal(pull.condition.type, "ReconcileFailed");
    assert.deepEqual(pull.candidates.map((c) => c.export).filter(ours), [
      `${src}/glob`,
      `${src}/selector`,
      `${src}/exact`,
    ]);
  });

  await t.test("the conflict, and how to resolve it", () => {
    const conflicts = pull.conflicts.filter((c) => c.exports.some(ours));
    assert.equal(conflicts.length, 1);
    const [conflict] = conflicts;
    assert.deepEqual(conflict?.registry, "quay.io");
    assert.deepEqual(conflict?.exports, [`${src}/exact`, `${src}/selector`]);
    assert.equal(conflict?.kept, null);
    assert.match(conflict?.resolution ?? "", /secretgen\.carvel\.dev\/weight annotation above 0/);
    assert.deepEqual(conflict?.commands, [
      `kubectl annotate secretexport -n ${src} exact secretgen.carvel.dev/weight=1 --overwrite`,
      `kubectl annotate secretexport -n ${src} selector secretgen.carvel.dev/weight=1 --overwrite`,
    ]);
    assert.deepEqual(
      filled.status?.conflicts,
      pull.conflicts.map(({ registry, exports }) => ({ registry, exports })),
    );
  });

  await t.test("whether each import is satisfied, and why not", () => {
    assert.deepEqual(
      e.imports.map((i) => [i.name, i.satisfied, i.reason, i.copy]),
      [
        ["db", true, "Imported", "inSync"],
        ["elsewhere", false, "NoMatchingExport", "absent"],
        ["missing", false, "NoMatchingExport", "absent"],
      ],
    );
    assert.match(
      e.imports[1]?.why ?? "",
      new RegExp(`^the SecretExport ${src}/elsewhere does not reach ${app}: `),
    );
    assert.equal(e.imports[2]?.why, `there is no SecretExport ${src}/missing`);
  });

  await t.test("an excluded namespace: globs do not reach it, exact names still do", async () => {
    const x = await explainJson(excluded);
    assert.equal(x.namespace.excludedFromWildcardMatching, true);
    const glob = notReaching(x, `${src}/glob`);
    assert.equal(glob.reason, "excludedFromWildcardMatching");
    assert.match(glob.detail, /is annotated secretgen\.carvel\.dev\/excluded-from-wildcard-matching/);
    assert.equal(reaching(x, `${src}/exact`).rule, "exactName");
    assert.equal(notReaching(x, `${src}/selector`).reason, "noMatch");
    assert.deepEqual(x.placeholders, []);
  });

  await t.test("--secret narrows to one placeholder or import", async () => {
    const one = await explainJson(app, "--secret", "db");
    assert.deepEqual(one.placeholders, []);
    assert.deepEqual(
      one.imports.map((i) => i.name),
      ["db"],
    );
    const none = await explainJson(app, "--secret", "nothing-here");
    assert.equal(none.notes.length, 1);
  });

  await t.test("the text form says the same in 80 columns", async () => {
    const text = await explainCli(app);
    for (const line of text.split("\n")) assert.ok(line.length <= 80, `too long: ${JSON.stringify(line)}`);
    assert.ok(text.includes(`  ${src}/exact\n    by exact name: listed in spec.toNamespaces[0]\n`), text);
    assert.ok(text.includes(`  ${src}/glob\n    by glob: matches spec.toNamespace "${tag}-*"\n`), text);
    assert.ok(text.includes(`  ${src}/db\n    by JSONPath selector: `), text);
    assert.ok(text.includes(`\n    docker.io from ${src}/exact (the only offer)\n`), text);
    // Long names wrap, commands with a shell continuation; the words are the same.
    const words = text.replace(/ \\\n/g, "\n").replace(/\s+/g, " ");
    for (const expected of [
      `Namespace ${app}`,
      `${src}/selector by label selector: matches spec.toNamespaceSelector explain-test=${tag}`,
      `Placeholder ${app}/pull: in sync`,
      `CONFLICT on quay.io: different credentials from ${src}/exact, ${src}/selector (weight 0)`,
      `kubectl annotate secretexport -n ${src} exact secretgen.carvel.dev/weight=1 --overwrite`,
      `Import ${app}/db from ${src}: satisfied (Imported)`,
      `Import ${app}/missing from ${src}: NOT satisfied (NoMatchingExport) there is no SecretExport ${src}/missing`,
    ]) {
      assert.ok(words.includes(expected), `missing ${JSON.stringify(expected)} in\n${text}`);
    }

    const json = await explainCli(app, "-o", "json");
    const secrets = [
      opaqueValue,
      Buffer.from(opaqueValue).toString("base64"),
      // username, password and auth of each
      ...Object.values(credentials).flatMap((c) => Object.values(c)),
      ...Object.values(filled.data),
    ];
    for (const [name, output] of [
      ["text", text],
      ["json", json],
    ] as const) {
      for (const secret of secrets)
        assert.ok(!output.includes(secret), `${name} output contains a credential`);
    }
  });
});

test("explain needs no cluster-wide read of Secrets: a user who may get only the Secrets it explains is enough", async (t) => {
  const src = await testNamespace(t, "xp-src");
  const app = await testNamespace(t, "xp-app");
  await createSource(src, "creds", { "narrow.example.com": cred("narrow-user", "narrow-pass") });
  await createExport(t, src, "creds", { toNamespace: app });
  await createPlaceholder(app);
  await expectAuths(app, { "narrow.example.com": cred("narrow-user", "narrow-pass") });
  const kubeconfig = await narrowExplainer(t, app, src);

  const explained = JSON.parse(await explainAs(kubeconfig, app, "-o", "json")) as Explanation;
  assert.deepEqual(
    explained.placeholders.map((p) => p.registries.map((r) => [r.registry, r.export])),
    [[["narrow.example.com", `${src}/creds`]]],
  );
});

/**
 * A kubeconfig file for a ServiceAccount that may get `namespace`, list SecretExports and
 * ClusterPlaceholders, and in
 * `namespace` list SecretImports and Secrets; of Secrets elsewhere, it may get those in `source` only.
 */
async function narrowExplainer(t: TestContext, namespace: string, source: string): Promise<string> {
  const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const name = uniqueName("explainer");
  const subjects = [{ kind: "ServiceAccount", name, namespace }];
  const roleRef = (kind: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name });
  await rbac.createClusterRole({
    body: {
      metadata: { name },
      rules: [
        { apiGroups: [""], resources: ["namespaces"], resourceNames: [namespace], verbs: ["get"] },
        { apiGroups: ["secretgen.carvel.dev"], resources: ["secretexports"], verbs: ["list"] },
        { apiGroups: ["secret-export.dev"], resources: ["clusterplaceholders"], verbs: ["list"] },
      ],
    },
  });
  t.after(() => rbac.deleteClusterRole({ name }).catch(ignoreNotFound));
  await rbac.createClusterRoleBinding({
    body: { metadata: { name }, subjects, roleRef: roleRef("ClusterRole") },
  });
  t.after(() => rbac.deleteClusterRoleBinding({ name }).catch(ignoreNotFound));
  const rules = {
    [namespace]: [
      { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] },
      { apiGroups: ["secretgen.carvel.dev"], resources: ["secretimports"], verbs: ["list"] },
    ],
    [source]: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
  };
  for (const [where, granted] of Object.entries(rules)) {
    await rbac.createNamespacedRole({ namespace: where, body: { metadata: { name }, rules: granted } });
    await rbac.createNamespacedRoleBinding({
      namespace: where,
      body: { metadata: { name }, subjects, roleRef: roleRef("Role") },
    });
  }
  const kc = await serviceAccountKubeConfig(namespace, name);
  const path = join(root, ".run", `kubeconfig-${name}.json`);
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  t.after(() => rm(path, { force: true }));
  return path;
}

test("explain exits with 2 on a usage error and 1 when the cluster cannot be read", async () => {
  await assert.rejects(
    execute(process.execPath, ["src/cli.ts", "explain", "-o", "yaml", "-n", "x"], { cwd: root }),
    (err: { code?: number; stderr?: string }) =>
      err.code === 2 && /expected text or json/.test(err.stderr ?? ""),
  );
  await assert.rejects(
    execute(
      process.execPath,
      ["src/cli.ts", "explain", "-n", "x", "--kubeconfig", "/nonexistent/kubeconfig"],
      {
        cwd: root,
      },
    ),
    (err: { code?: number; stderr?: string }) => err.code === 1 && /^explain: /.test(err.stderr ?? ""),
  );
});
