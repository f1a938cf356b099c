import assert from "node:assert/strict";
import { test } from "node:test";
import { ANNOTATION_STATUS, SECRET_TYPE_SERVICE_ACCOUNT_TOKEN } from "../../src/constants.ts";
import { WRONG_TYPE_STATUS } from "../../src/core/placeholder.ts";
import {
  type ExportExplanation,
  type Explanation,
  explain,
  type ImportExplanation,
  type PlaceholderExplanation,
  sourcesToRead,
} from "../../src/explain/explain.ts";
import { renderText } from "../../src/explain/render.ts";
import {
  type Cluster,
  copyOf,
  cred,
  docker,
  exp,
  imp,
  input,
  MARK,
  ns,
  placeholder,
  reconciled,
  secret,
} from "./fixtures.ts";

const A = cred("a");
const B = cred("b");

/** Every explanation a test makes is checked for leaked credentials, in JSON and in text. */
function run(cluster: Cluster): Explanation {
  const explanation = explain(input(cluster));
  for (const output of [JSON.stringify(explanation), renderText(explanation)]) {
    assert.ok(!output.includes(MARK), `a credential leaked: ${output}`);
    assert.ok(!output.includes(A.auth) && !output.includes(B.auth), "an auth value leaked");
  }
  return explanation;
}

const exportOf = (e: Explanation, key: string): ExportExplanation => {
  const found = e.exports.find((x) => x.export === key);
  assert.ok(found, `no export ${key}`);
  return found;
};

const only = <T>(items: T[]): T => {
  assert.equal(items.length, 1);
  return items[0] as T;
};

test("which exports reach the namespace, by which rule, and why the others do not", async (t) => {
  const rows: {
    name: string;
    spec: Record<string, unknown>;
    namespace?: ReturnType<typeof ns> | undefined;
    want: Partial<ExportExplanation> & Record<string, unknown>;
  }[] = [
    {
      name: "exact name",
      spec: { toNamespaces: ["other", "app"] },
      want: { reached: true, rule: "exactName", detail: "listed in spec.toNamespaces[1]" },
    },
    {
      name: "glob",
      spec: { toNamespace: "a*" },
      want: { reached: true, rule: "glob", detail: 'matches spec.toNamespace "a*"' },
    },
    {
      name: "label selector",
      spec: { toNamespaceSelector: { matchLabels: { team: "a" } } },
      namespace: ns("app", { labels: { team: "a" } }),
      want: { reached: true, rule: "labelSelector", detail: "matches spec.toNamespaceSelector team=a" },
    },
    {
      name: "JSONPath selector",
      spec: { dangerousToNamespacesSelector: [{ key: "metadata.labels.tier", operator: "Exists" }] },
      namespace: ns("app", { labels: { tier: "web" } }),
      want: {
        reached: true,
        rule: "jsonPathSelector",
        detail: "matches spec.dangerousToNamespacesSelector metadata.labels.tier Exists",
      },
    },
    {
      name: "excluded from a glob by the annotation",
      spec: { toNamespace: "*" },
      namespace: ns("app", { excluded: true }),
      want: { reached: false, reason: "excludedFromWildcardMatching", problems: [] },
    },
    {
      name: "excluded from a glob, but listed by name",
      spec: { toNamespaces: ["*", "app"] },
      namespace: ns("app", { excluded: true }),
      want: { reached: true, rule: "exactName" },
    },
    {
      name: "excluded from a glob, but matched by a label selector",
      spec: { toNamespace: "*", toNamespaceSelector: { matchLabels: { team: "a" } } },
      namespace: ns("app", { excluded: true, labels: { team: "a" } }),
      want: { reached: true, rule: "labelSelector" },
    },
    {
      name: "excluded, and no glob matches anyway",
      spec: { toNamespace: "b*" },
      namespace: ns("app", { excluded: true }),
      want: {
        reached: false,
        reason: "noMatch",
        detail: "no toNamespace/toNamespaces entry or selector matches it",
      },
    },
    {
      name: "no match",
      spec: { toNamespaceSelector: { matchLabels: { team: "b" } } },
      want: { reached: false, reason: "noMatch" },
    },
    {
      name: "invalid glob",
      spec: { toNamespaces: ["app", "[a"] },
      want: {
        reached: false,
        reason: "invalidSpec",
        problems: [{ field: "spec.toNamespaces[1]", message: '"[a" is not a valid glob: "[" without "]"' }],
      },
    },
    {
      name: "invalid JSONPath selector",
      spec: { dangerousToNamespacesSelector: [{ key: "metadata.labels.a", operator: "In" }] },
      want: { reached: false, reason: "invalidSpec" },
    },
    {
      name: "no destination at all",
      spec: {},
      want: { reached: false, reason: "invalidSpec" },
    },
    {
      name: "the namespace is being deleted",
      spec: { toNamespace: "app" },
      namespace: ns("app", { terminating: true }),
      want: { reached: false, reason: "namespaceTerminating", detail: "the namespace is being deleted" },
    },
    {
      name: "the namespace does not exist",
      spec: { toNamespace: "app" },
      namespace: undefined,
      want: { reached: false, reason: "namespaceNotFound" },
    },
    {
      name: "an invalid spec is reported even when the namespace does not exist",
      spec: { toNamespace: "" },
      namespace: undefined,
      want: { reached: false, reason: "invalidSpec" },
    },
  ];
  for (const row of rows) {
    await t.test(row.name, () => {
      const namespaces = "namespace" in row ? (row.namespace ? [row.namespace] : []) : [ns("app")];
      const e = run({ namespaces, exports: [exp("ops/creds", row.spec)] });
      const got = exportOf(e, "ops/creds");
      for (const [field, value] of Object.entries(row.want)) {
        assert.deepEqual(got[field as keyof ExportExplanation], value, field);
      }
      if (got.reached === false && got.reason !== "invalidSpec") assert.deepEqual(got.problems, []);
    });
  }
});

test("the source of each export that reaches the namespace, and whether placeholders use it", async (t) => {
  const rows: {
    name: string;
    source: ReturnType<typeof secret> | undefined;
    want: Record<string, unknown>;
    candidate: boolean;
  }[] = [
    {
      name: "missing",
      source: undefined,
      want: {
        exists: false,
        type: null,
        registries: [],
        skipped: [],
        unreadable: null,
        registryCredential: null,
      },
      candidate: false,
    },
    {
      name: "of another type",
      source: secret("ops/creds", "Opaque", { token: `x-${MARK}` }),
      want: { exists: true, type: "Opaque", registries: [], unreadable: null },
      candidate: false,
    },
    {
      name: "dockerconfigjson, with an entry without credentials",
      source: docker("ops/creds", { "z.io": A, "a.io": B, "empty.io": { email: "x@example.com" } }),
      want: {
        registries: ["a.io", "z.io"],
        skipped: ["empty.io"],
        unreadable: null,
        registryCredential: null,
      },
      candidate: true,
    },
    {
      name: "kept fresh by a RegistryCredential: when its credential expires",
      source: docker(
        "ops/creds",
        { "a.io": A },
        {
          "secret-export.dev/refreshed-at": "2026-12-02T00:00:00Z",
          "secret-export.dev/expires-at": "2026-12-02T12:00:00Z",
        },
      ),
      want: { registries: ["a.io"], registryCredential: { expiresAt: "2026-12-02T12:00:00Z" } },
      candidate: true,
    },
    {
      name: "unreadable",
      source: secret("ops/creds", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson": `{${MARK}` }),
      want: { exists: true, registries: [], unreadable: "not valid JSON" },
      candidate: true,
    },
  ];
  for (const row of rows) {
    await t.test(row.name, () => {
      const e = run({
        exports: [exp("ops/creds", { toNamespace: "app" })],
        secrets: row.source ? [row.source] : [],
      });
      const got = exportOf(e, "ops/creds");
      assert.ok(got.reached);
      for (const [field, value] of Object.entries(row.want)) {
        assert.deepEqual(got.source[field as keyof typeof got.source], value, field);
      }
      assert.equal(got.placeholderCandidate, row.candidate);
    });
  }
});

/** The explanation of placeholder app/pull. */
function pull(cluster: Cluster): PlaceholderExplanation {
  return only(run(cluster).placeholders.filter((p) => p.name === "pull"));
}

const registries = (p: PlaceholderExplanation) =>
  p.registries.map((r) => [r.registry, r.export, r.choice] as const);

test("the registries a placeholder gets, from which export, and how each was chosen", async (t) => {
  const rows: {
    name: string;
    cluster: Cluster;
    registries: (readonly [string, string, string])[];
    conflicts?: { registry: string; exports: string[]; kept: unknown }[];
  }[] = [
    {
      name: "one export",
      cluster: {
        exports: [exp("ops/a", { toNamespace: "app" })],
        secrets: [docker("ops/a", { "docker.io": A, "ghcr.io": B }), placeholder("app/pull")],
      },
      registries: [
        ["docker.io", "ops/a", "onlyOffer"],
        ["ghcr.io", "ops/a", "onlyOffer"],
      ],
    },
    {
      name: "the same credentials from two exports: the most preferred (exact name) provides them",
      cluster: {
        exports: [exp("ops/a", { toNamespace: "app" }), exp("ops/b", { toNamespace: "*" })],
        secrets: [
          docker("ops/a", { "docker.io": A }),
          docker("ops/b", { "https://index.docker.io/v1/": A }),
          placeholder("app/pull"),
        ],
      },
      registries: [["docker.io", "ops/a", "identicalCredentials"]],
    },
    {
      name: "different credentials, the strictly highest weight wins",
      cluster: {
        exports: [exp("ops/a", { toNamespace: "app" }), exp("ops/b", { toNamespace: "*" }, "1.5")],
        secrets: [
          docker("ops/a", { "docker.io": A }),
          docker("ops/b", { "index.docker.io": B }),
          placeholder("app/pull"),
        ],
      },
      registries: [["index.docker.io", "ops/b", "highestWeight"]],
    },
    {
      name: "a conflict in a new placeholder leaves the registry out",
      cluster: {
        exports: [exp("ops/a", { toNamespace: "app" }), exp("ops/b", { toNamespace: "*" })],
        secrets: [
          docker("ops/a", { "docker.io": A, "ghcr.io": A }),
          docker("ops/b", { "docker.io": B }),
          placeholder("app/pull"),
        ],
      },
      registries: [["ghcr.io", "ops/a", "onlyOffer"]],
      conflicts: [{ registry: "docker.io", exports: ["ops/a", "ops/b"], kept: null }],
    },
    {
      name: "a conflict that appears later keeps the current entry",
      cluster: {
        ...reconciled({
          exports: [exp("ops/a", { toNamespace: "app" })],
          secrets: [
            docker("ops/a", { "docker.io": A }),
            docker("ops/b", { "docker.io": B }),
            placeholder("app/pull"),
          ],
        }),
        exports: [exp("ops/a", { toNamespace: "app" }), exp("ops/b", { toNamespace: "app" })],
      },
      registries: [["docker.io", "ops/a", "keptDuringConflict"]],
      conflicts: [
        {
          registry: "docker.io",
          exports: ["ops/a", "ops/b"],
          kept: { registry: "docker.io", export: "ops/a" },
        },
      ],
    },
  ];
  for (const row of rows) {
    await t.test(row.name, () => {
      const p = pull(row.cluster);
      assert.deepEqual(registries(p), row.registries);
      assert.deepEqual(
        p.conflicts.map(({ registry, exports, kept }) => ({ registry, exports, kept })),
        row.conflicts ?? [],
      );
    });
  }

  await t.test("offers are listed with whether they match what is written", () => {
    const p = pull(rows[2]?.cluster ?? {});
    assert.deepEqual(only(p.registries).offeredBy, [
      { export: "ops/a", key: "docker.io", weight: 0, sameCredentials: false },
      { export: "ops/b", key: "index.docker.io", weight: 1.5, sameCredentials: true },
    ]);
    assert.equal(only(p.registries).normalised, "docker.io");
  });

  await t.test("candidates are listed least to most preferred", () => {
    const p = pull({
      exports: [
        exp("ops/exact", { toNamespace: "app" }),
        exp("app/own", { toNamespace: "app" }),
        exp("ops/glob", { toNamespace: "*" }),
        exp("ops/heavy", { toNamespace: "*" }, "3"),
        exp("ops/opaque", { toNamespace: "app" }),
      ],
      secrets: [
        docker("ops/exact", { "a.io": A }),
        docker("app/own", { "b.io": A }),
        docker("ops/glob", { "c.io": A }),
        docker("ops/heavy", { "d.io": A }),
        secret("ops/opaque", "Opaque", {}),
        placeholder("app/pull"),
      ],
    });
    assert.deepEqual(
      p.candidates.map((c) => c.export),
      ["ops/glob", "ops/exact", "app/own", "ops/heavy"],
    );
    assert.deepEqual(p.candidates[2], { export: "app/own", weight: 0, sameNamespace: true, exact: true });
  });

  await t.test("an unreadable source is reported, and its registries are kept", () => {
    const filled = reconciled({
      exports: [exp("ops/a", { toNamespace: "app" })],
      secrets: [docker("ops/a", { "docker.io": A }), placeholder("app/pull")],
    });
    const broken = secret("ops/a", "kubernetes.io/dockerconfigjson", { ".dockerconfigjson": "[]" });
    const p = pull({ ...filled, secrets: [broken, ...(filled.secrets ?? []).slice(1)] });
    assert.deepEqual(registries(p), [["docker.io", "ops/a", "keptWhileSourceUnreadable"]]);
    assert.deepEqual(p.unreadableSources, [
      { export: "ops/a", message: "the top level must be a JSON object, not an array" },
    ]);
    assert.equal(p.condition.type, "ReconcileFailed");
  });

  await t.test("entries without credentials are reported as skipped", () => {
    const p = pull({
      exports: [exp("ops/a", { toNamespace: "app" })],
      secrets: [
        docker("ops/a", { "z.io": {}, "docker.io": A, "a.io": { password: "" } }),
        placeholder("app/pull"),
      ],
    });
    assert.deepEqual(p.skipped, [{ export: "ops/a", registries: ["a.io", "z.io"] }]);
  });
});

test("a conflict says how to resolve it", async (t) => {
  await t.test("between exports: a higher weight on the one that should win", () => {
    const p = pull({
      exports: [
        exp("ops/a", { toNamespace: "app" }, "2"),
        exp("team/b", { toNamespace: "app" }, "2"),
        exp("ops/low", { toNamespace: "app" }),
      ],
      secrets: [
        docker("ops/a", { "docker.io": A }),
        docker("team/b", { "docker.io": B }),
        docker("ops/low", { "docker.io": cred("c") }),
        placeholder("app/pull"),
      ],
    });
    const conflict = only(p.conflicts);
    assert.deepEqual(conflict.exports, ["ops/a", "team/b"]);
    assert.equal(conflict.weight, 2);
    assert.match(conflict.resolution, /secretgen\.carvel\.dev\/weight annotation above 2/);
    assert.deepEqual(conflict.commands, [
      "kubectl annotate secretexport -n ops a secretgen.carvel.dev/weight=3 --overwrite",
      "kubectl annotate secretexport -n team b secretgen.carvel.dev/weight=3 --overwrite",
    ]);
    assert.equal(p.condition.type, "ReconcileFailed");
    assert.match(p.condition.message ?? "", /Conflicting credentials for registry "docker.io"/);
  });

  await t.test("within one export: keep one of its keys", () => {
    const p = pull({
      exports: [exp("ops/a", { toNamespace: "app" })],
      secrets: [
        docker("ops/a", { "docker.io": A, "https://index.docker.io/v1/": B }),
        placeholder("app/pull"),
      ],
    });
    const conflict = only(p.conflicts);
    assert.deepEqual(conflict.exports, ["ops/a"]);
    assert.deepEqual(conflict.commands, []);
    assert.match(conflict.resolution, /several keys \(docker\.io, https:\/\/index\.docker\.io\/v1\/\)/);
  });
});

test("whether a placeholder is in sync with what the controller would write", async (t) => {
  const cluster: Cluster = {
    exports: [exp("ops/a", { toNamespace: "app" })],
    secrets: [docker("ops/a", { "docker.io": A }), placeholder("app/pull")],
  };
  const rows: { name: string; cluster: Cluster; want: Partial<PlaceholderExplanation> }[] = [
    {
      name: "new: data and status are written",
      cluster,
      want: { sync: "willBeRewritten", changes: ["data", "status"], problem: null },
    },
    {
      name: "after the controller filled it: nothing to write",
      cluster: reconciled(cluster),
      want: { sync: "inSync", changes: [], condition: { type: "ReconcileSucceeded", message: null } },
    },
    {
      name: "a rotated source: the data is rewritten",
      cluster: (() => {
        const filled = reconciled(cluster);
        return {
          ...filled,
          secrets: [docker("ops/a", { "docker.io": B }), ...(filled.secrets ?? []).slice(1)],
        };
      })(),
      want: { sync: "willBeRewritten", changes: ["data"] },
    },
    {
      name: "of the wrong type: only the status is written, the data is left alone",
      cluster: {
        ...cluster,
        secrets: [docker("ops/a", { "docker.io": A }), placeholder("app/pull", "Opaque")],
      },
      want: {
        sync: "willBeRewritten",
        changes: ["status"],
        registries: [],
        condition: {
          type: "ReconcileFailed",
          message: "Expected secret to have type=corev1.SecretTypeDockerConfigJson, but did not",
        },
      },
    },
    {
      name: "of the wrong type, once reported",
      cluster: reconciledWrongType(cluster),
      want: { sync: "inSync", changes: [] },
    },
    {
      name: "in a namespace being deleted: left alone",
      cluster: { ...cluster, namespaces: [ns("app", { terminating: true })] },
      want: { sync: "notReconciled", changes: [], registries: [] },
    },
    {
      name: "too large to fit in a Secret: only the status is written",
      cluster: {
        ...cluster,
        secrets: [
          docker("ops/a", { "docker.io": cred("a", "x".repeat(1_100_000)) }),
          placeholder("app/pull"),
        ],
      },
      want: { sync: "willBeRewritten", changes: ["status"] },
    },
  ];
  for (const row of rows) {
    await t.test(row.name, () => {
      const p = pull(row.cluster);
      for (const [field, value] of Object.entries(row.want)) {
        assert.deepEqual(p[field as keyof PlaceholderExplanation], value, field);
      }
    });
  }

  await t.test("the problem of a placeholder that does not fit says so", () => {
    const p = pull(rows.at(-1)?.cluster ?? {});
    assert.match(p.problem ?? "", /1 MiB/);
    assert.equal(p.condition.type, "ReconcileFailed");
  });
});

/** The wrong-type placeholder after the controller reported it. */
function reconciledWrongType(cluster: Cluster): Cluster {
  const wrong = placeholder("app/pull", "Opaque");
  return {
    ...cluster,
    secrets: [{ ...wrong, annotations: { ...wrong.annotations, [ANNOTATION_STATUS]: WRONG_TYPE_STATUS } }],
  };
}

test("whether each SecretImport is satisfied, and why not", async (t) => {
  const opaque = secret("ops/db", "Opaque", { password: `p-${MARK}` });
  const rows: {
    name: string;
    cluster: Cluster;
    want: Partial<ImportExplanation>;
  }[] = [
    {
      name: "satisfied, the copy is created",
      cluster: {
        exports: [exp("ops/db", { toNamespace: "app" })],
        secrets: [opaque],
        imports: [imp("app/db", "ops")],
      },
      want: {
        satisfied: true,
        reason: "Imported",
        message: "Imported from ops/db",
        why: null,
        copy: "willBeCreated",
      },
    },
    {
      name: "satisfied, the copy is in sync",
      cluster: {
        exports: [exp("ops/db", { toNamespace: "app" })],
        secrets: [opaque],
        imports: [imp("app/db", "ops")],
        copies: [["db", copyOf("app/db", opaque)]],
      },
      want: { satisfied: true, copy: "inSync" },
    },
    {
      name: "satisfied, the copy is out of date",
      cluster: {
        exports: [exp("ops/db", { toNamespace: "app" })],
        secrets: [opaque],
        imports: [imp("app/db", "ops")],
        copies: [["db", copyOf("app/db", secret("ops/db", "Opaque", { password: "old" }))]],
      },
      want: { satisfied: true, copy: "willBeUpdated" },
    },
    {
      name: "no such export",
      cluster: { secrets: [opaque], imports: [imp("app/db", "ops")] },
      want: {
        satisfied: false,
        reason: "NoMatchingExport",
        message: "No matching export/secret",
        why: "there is no SecretExport ops/db",
        copy: "absent",
      },
    },
    {
      name: "the export does not reach the namespace; our copy goes",
      cluster: {
        exports: [exp("ops/db", { toNamespace: "other" })],
        secrets: [opaque],
        imports: [imp("app/db", "ops")],
        copies: [["db", copyOf("app/db", opaque)]],
      },
      want: {
        satisfied: false,
        why: "the SecretExport ops/db does not reach app: no toNamespace/toNamespaces entry or selector matches it",
        copy: "willBeDeleted",
      },
    },
    {
      name: "the export is invalid",
      cluster: {
        exports: [exp("ops/db", { toNamespace: "[" })],
        secrets: [opaque],
        imports: [imp("app/db", "ops")],
      },
      want: {
        satisfied: false,
        why: 'the SecretExport ops/db is invalid: spec.toNamespace: "[" is not a valid glob: "[" without "]"',
      },
    },
    {
      name: "the exported Secret is missing",
      cluster: { exports: [exp("ops/db", { toNamespace: "app" })], imports: [imp("app/db", "ops")] },
      want: { satisfied: false, why: "the exported Secret ops/db does not exist" },
    },
    {
      name: "a Secret the import does not control has its name",
      cluster: {
        exports: [exp("ops/db", { toNamespace: "app" })],
        secrets: [opaque],
        imports: [imp("app/db", "ops")],
        copies: [["db", copyOf("app/db", opaque, "someone-else")]],
      },
      want: { satisfied: false, reason: "SecretExists", copy: "notOurs" },
    },
    {
      name: "into its own namespace",
      cluster: { exports: [exp("app/db", { toNamespace: "app" })], imports: [imp("app/db", "app")] },
      want: { satisfied: false, reason: "InvalidSpec" },
    },
    {
      name: "without fromNamespace",
      cluster: { imports: [imp("app/db", undefined)] },
      want: { satisfied: false, reason: "InvalidSpec", fromNamespace: null, export: null },
    },
    {
      name: "a service-account token",
      cluster: {
        exports: [exp("ops/db", { toNamespace: "app" })],
        secrets: [secret("ops/db", SECRET_TYPE_SERVICE_ACCOUNT_TOKEN, { token: `t-${MARK}` })],
        imports: [imp("app/db", "ops")],
      },
      want: { satisfied: false, reason: "UnsupportedType", copy: "absent" },
    },
  ];
  for (const row of rows) {
    await t.test(row.name, () => {
      const got = only(run(row.cluster).imports);
      for (const [field, value] of Object.entries(row.want)) {
        assert.deepEqual(got[field as keyof ImportExplanation], value, field);
      }
    });
  }
});

test("everything is sorted, whatever order the cluster listed it in", () => {
  const cluster: Cluster = {
    exports: [
      exp("z/a", { toNamespace: "app" }),
      exp("a/z", { toNamespace: "app" }),
      exp("a/b", { toNamespace: "x" }),
    ],
    secrets: [
      docker("z/a", { "q.io": A, "b.io": A }),
      docker("a/z", { "a.io": B }),
      placeholder("app/zz"),
      placeholder("app/pull"),
    ],
    imports: [imp("app/y", "a"), imp("app/b", "a")],
    namespaces: [namespaceWithLabels({ z: "1", a: "2" })],
  };
  const e = run(cluster);
  assert.deepEqual(
    e.exports.map((x) => x.export),
    ["a/b", "a/z", "z/a"],
  );
  assert.deepEqual(
    e.placeholders.map((p) => p.name),
    ["pull", "zz"],
  );
  assert.deepEqual(
    e.imports.map((i) => i.name),
    ["b", "y"],
  );
  assert.deepEqual(Object.keys(e.namespace.labels), ["a", "z"]);
  assert.deepEqual(
    e.placeholders[0]?.registries.map((r) => r.registry),
    ["a.io", "b.io", "q.io"],
  );
  const reversed = run({
    ...cluster,
    exports: [...(cluster.exports ?? [])].reverse(),
    secrets: [...(cluster.secrets ?? [])].reverse(),
    imports: [...(cluster.imports ?? [])].reverse(),
  });
  assert.deepEqual(reversed, e);
});

function namespaceWithLabels(labels: Record<string, string>) {
  return ns("app", { labels });
}

test("--secret explains only the placeholder or import of that name", async (t) => {
  const cluster: Cluster = {
    exports: [exp("ops/a", { toNamespace: "app" })],
    secrets: [docker("ops/a", { "docker.io": A }), placeholder("app/pull"), placeholder("app/other")],
    imports: [imp("app/a", "ops"), imp("app/pull2", "ops")],
  };
  await t.test("a placeholder", () => {
    const e = run({ ...cluster, secret: "pull" });
    assert.equal(e.secret, "pull");
    assert.deepEqual(
      e.placeholders.map((p) => p.name),
      ["pull"],
    );
    assert.deepEqual(e.imports, []);
    assert.deepEqual(e.notes, []);
    assert.equal(e.exports.length, 1, "every export is still explained");
  });
  await t.test("an import", () => {
    const e = run({ ...cluster, secret: "a" });
    assert.deepEqual(e.placeholders, []);
    assert.deepEqual(
      e.imports.map((i) => i.name),
      ["a"],
    );
  });
  await t.test("neither", () => {
    const e = run({ ...cluster, secret: "nothing" });
    assert.deepEqual(e.notes, [
      "app/nothing is neither a placeholder (a Secret annotated secretgen.carvel.dev/image-pull-secret) nor a SecretImport.",
    ]);
  });
});

test("a namespace that does not exist", () => {
  const e = run({ namespaces: [], exports: [exp("ops/a", { toNamespace: "*" })] });
  assert.deepEqual(e.namespace, {
    name: "app",
    exists: false,
    terminating: false,
    excludedFromWildcardMatching: false,
    labels: {},
  });
  assert.deepEqual(e.notes, ["The namespace app does not exist: no export reaches it."]);
  assert.equal(exportOf(e, "ops/a").reached, false);
});

test("sourcesToRead names the sources of the exports reaching the namespace and of its imports", () => {
  const exports = [
    exp("ops/a", { toNamespace: "app" }),
    exp("ops/b", { toNamespace: "other" }),
    exp("ops/c", { toNamespace: "[" }),
    exp("a/z", { toNamespace: "*" }),
  ];
  assert.deepEqual(
    sourcesToRead(ns("app"), exports, [imp("app/c", "ops"), imp("app/a", "ops"), imp("app/x", undefined)]),
    ["a/z", "ops/a", "ops/c"],
  );
  assert.deepEqual(sourcesToRead(undefined, exports, []), []);
});

test("the JSON form has every documented field, and schemaVersion 1", () => {
  const e = run(
    reconciled({
      exports: [exp("ops/a", { toNamespace: "app" }), exp("ops/b", { toNamespace: "nope" })],
      secrets: [docker("ops/a", { "docker.io": A }), placeholder("app/pull")],
      imports: [imp("app/x", "ops")],
    }),
  );
  assert.deepEqual(Object.keys(e), [
    "schemaVersion",
    "namespace",
    "secret",
    "exports",
    "placeholders",
    "imports",
    "notes",
  ]);
  assert.equal(e.schemaVersion, 1);
  assert.deepEqual(Object.keys(exportOf(e, "ops/a")), [
    "export",
    "weight",
    "reached",
    "rule",
    "detail",
    "source",
    "placeholderCandidate",
  ]);
  assert.deepEqual(Object.keys(exportOf(e, "ops/b")), [
    "export",
    "weight",
    "reached",
    "reason",
    "detail",
    "problems",
  ]);
  assert.deepEqual(Object.keys(e.placeholders[0] ?? {}), [
    "name",
    "type",
    "sync",
    "changes",
    "problem",
    "candidates",
    "registries",
    "conflicts",
    "unreadableSources",
    "skipped",
    "condition",
  ]);
  assert.deepEqual(Object.keys(e.imports[0] ?? {}), [
    "name",
    "fromNamespace",
    "export",
    "satisfied",
    "reason",
    "message",
    "why",
    "copy",
  ]);
});
