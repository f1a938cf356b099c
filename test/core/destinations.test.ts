import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ANNOTATION_EXCLUDED_FROM_WILDCARD } from "../../src/constants.ts";
import {
  compileExport,
  exactNames,
  reach,
  usesNamespaceMetadata,
  type CompiledExport,
  type Reach,
} from "../../src/core/destinations.ts";
import type { NamespaceView, SecretExportSpec } from "../../src/core/types.ts";

interface NamespaceOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  terminating?: boolean;
}

function namespace(
  name: string,
  { labels = {}, annotations = {}, terminating = false }: NamespaceOptions = {},
): NamespaceView {
  const phase = terminating ? "Terminating" : "Active";
  const object = {
    metadata: { name, labels, annotations },
    spec: { finalizers: ["kubernetes"] },
    status: { phase },
  };
  return { name, labels, annotations, terminating, object };
}

const excluded = { annotations: { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: "" } };

function compile(spec: SecretExportSpec): CompiledExport {
  const result = compileExport(spec);
  assert.ok(result.ok, JSON.stringify(result));
  return result.compiled;
}

function problemsOf(spec: SecretExportSpec) {
  const result = compileExport(spec);
  assert.equal(result.ok, false, JSON.stringify(spec));
  return result.ok ? [] : result.problems;
}

/** The rule that reaches the namespace, or "none". */
function ruleFor(spec: SecretExportSpec, ns: NamespaceView): string {
  const verdict = reach(compile(spec), ns);
  return verdict.reached ? verdict.rule : "none";
}

describe("compileExport", () => {
  test("an export without any destination is invalid", () => {
    const rows: SecretExportSpec[] = [
      {},
      { toNamespace: "" },
      { toNamespaces: [] },
      { dangerousToNamespacesSelector: [] },
    ];
    for (const spec of rows) {
      const problems = problemsOf(spec);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.field, "spec");
      assert.match(
        problems[0]?.message ?? "",
        /set toNamespace, toNamespaces, toNamespaceSelector or dangerousToNamespacesSelector/,
      );
    }
  });

  test("each kind of destination is enough on its own", () => {
    const rows: SecretExportSpec[] = [
      { toNamespace: "a" },
      { toNamespaces: ["a"] },
      { toNamespaceSelector: {} },
      { dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "Exists" }] },
      { toNamespace: "", toNamespaces: ["a"] },
    ];
    for (const spec of rows) assert.equal(compileExport(spec).ok, true, JSON.stringify(spec));
  });

  test("an empty toNamespaces entry is reported by its index", () => {
    const problems = problemsOf({ toNamespaces: ["a", "", "b"] });
    assert.deepEqual(
      problems.map((p) => p.field),
      ["spec.toNamespaces[1]"],
    );
    assert.match(problems[0]?.message ?? "", /^Expected to namespace to be non-empty/);
  });

  test("an unparsable glob is reported with its field", () => {
    const rows: [glob: string, why: RegExp][] = [
      ["team-[", /"\[" without "\]"/],
      ["team-[a-z*", /"\[" without "\]"/],
      ["team-[]", /"\[" without "\]"/],
      ["team-]*", /"\]" without "\["/],
      ["{dev,stage-*", /"\{" without "\}"/],
      ["dev}-*", /"\}" without "\{"/],
      ["}{", /"\}" without "\{"/],
      ["[z-a]*", /the range z-a is reversed/],
      ["team-[ab9-0]", /the range 9-0 is reversed/],
      ["[[:alpha:]]*", /classes such as \[:alpha:\] are not supported/],
      ["{,}", /can never match/],
      [`*${"a".repeat(70000)}`, /pattern is too long/],
    ];
    for (const [glob, why] of rows) {
      const problems = problemsOf({ toNamespaces: ["ok", glob] });
      assert.deepEqual(
        problems.map((p) => p.field),
        ["spec.toNamespaces[1]"],
        glob.slice(0, 20),
      );
      assert.match(problems[0]?.message ?? "", /is not a valid glob: /);
      assert.match(problems[0]?.message ?? "", why, glob.slice(0, 20));
    }
    assert.equal(problemsOf({ toNamespace: "x[" })[0]?.field, "spec.toNamespace");
  });

  test("valid globs compile, including escapes and classes that start with ]", () => {
    for (const glob of [
      "*",
      "team-*",
      "{dev,stage}-*",
      "{dev,stage}",
      "team-?",
      "[abc]*",
      "[!a]*",
      "[]a]",
      "x\\[",
      "[a-]",
      "{a..c}",
    ]) {
      assert.equal(compileExport({ toNamespaces: [glob] }).ok, true, glob);
    }
  });

  test("an invalid dangerousToNamespacesSelector entry is reported with carvel's messages", () => {
    const rows: [
      entry: { key: string; operator: string; values?: string[] },
      field: string,
      message: RegExp,
    ][] = [
      [
        { key: "bad[", operator: "Exists" },
        ".key",
        /^"bad\[" is not a supported JSONPath: "\[" is not closed by "\]"\. Write a path/,
      ],
      [{ key: "", operator: "Exists" }, ".key", /the key is empty/],
      [{ key: "a[?(@.b)]", operator: "Exists" }, ".key", /filters .* not supported/],
      [
        { key: "metadata.name", operator: "Equals", values: ["x"] },
        ".operator",
        /Unsupported operator "Equals"/,
      ],
      [
        { key: "metadata.name", operator: "In" },
        ".values",
        /^Values must be specified when `operator` is 'In' or 'NotIn'$/,
      ],
      [{ key: "metadata.name", operator: "NotIn", values: [] }, ".values", /^Values must be specified/],
      [
        { key: "metadata.name", operator: "Exists", values: ["x"] },
        ".values",
        /^Values may not be specified when `operator` is 'Exists' or 'DoesNotExist'$/,
      ],
      [
        { key: "metadata.name", operator: "DoesNotExist", values: [""] },
        ".values",
        /^Values may not be specified/,
      ],
    ];
    for (const [entry, field, message] of rows) {
      const spec = { dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "Exists" }, entry] };
      const problems = problemsOf(spec);
      assert.deepEqual(
        problems.map((p) => p.field),
        [`spec.dangerousToNamespacesSelector[1]${field}`],
        JSON.stringify(entry),
      );
      assert.match(problems[0]?.message ?? "", message, JSON.stringify(entry));
    }
  });

  test("an invalid toNamespaceSelector is reported below spec.toNamespaceSelector", () => {
    const problems = problemsOf({
      toNamespaceSelector: { matchExpressions: [{ key: "team", operator: "In" }] },
    });
    assert.deepEqual(
      problems.map((p) => p.field),
      ["spec.toNamespaceSelector.matchExpressions[0].values"],
    );
  });

  test("every problem of an export is reported at once", () => {
    const problems = problemsOf({
      toNamespace: "{",
      toNamespaces: [""],
      toNamespaceSelector: { matchLabels: { "bad key": "x" } },
      dangerousToNamespacesSelector: [{ key: "x[", operator: "Nope" }],
    });
    assert.deepEqual(
      problems.map((p) => p.field),
      [
        "spec.toNamespaces[0]",
        "spec.toNamespace",
        "spec.toNamespaceSelector.matchLabels[bad key]",
        "spec.dangerousToNamespacesSelector[0].key",
        "spec.dangerousToNamespacesSelector[0].operator",
      ],
    );
  });
});

describe("reach", () => {
  const rows: [name: string, spec: SecretExportSpec, ns: NamespaceView, rule: string][] = [
    ["an exact name reaches its namespace", { toNamespaces: ["a", "b"] }, namespace("b"), "exactName"],
    ["toNamespace is an exact name", { toNamespace: "b" }, namespace("b"), "exactName"],
    ["an exact name does not reach another namespace", { toNamespace: "b" }, namespace("bb"), "none"],
    [
      "an exact name reaches a namespace excluded from wildcard matching",
      { toNamespace: "b" },
      namespace("b", excluded),
      "exactName",
    ],
    ['"*" reaches every namespace', { toNamespace: "*" }, namespace("anything"), "glob"],
    [
      '"*" does not reach a namespace excluded from wildcard matching',
      { toNamespace: "*" },
      namespace("a", excluded),
      "none",
    ],
    [
      "a glob does not match a namespace excluded from wildcard matching",
      { toNamespaces: ["team-*"] },
      namespace("team-a", excluded),
      "none",
    ],
    ["a prefix glob matches", { toNamespaces: ["team-*"] }, namespace("team-a"), "glob"],
    [
      "a prefix glob does not match another prefix",
      { toNamespaces: ["team-*"] },
      namespace("other-a"),
      "none",
    ],
    [
      "a brace glob matches each alternative",
      { toNamespaces: ["{dev,stage}-*"] },
      namespace("stage-1"),
      "glob",
    ],
    [
      "a brace glob does not match other names",
      { toNamespaces: ["{dev,stage}-*"] },
      namespace("prod-1"),
      "none",
    ],
    ["? matches exactly one character", { toNamespaces: ["team-?"] }, namespace("team-a"), "glob"],
    ["? does not match two characters", { toNamespaces: ["team-?"] }, namespace("team-ab"), "none"],
    ["a class matches its characters", { toNamespaces: ["[ab]*"] }, namespace("b-team"), "glob"],
    ["a negated class excludes its characters", { toNamespaces: ["[!ab]*"] }, namespace("b-team"), "none"],
    [
      "a leading ! is a literal character, not a negation",
      { toNamespaces: ["!kube-system*"] },
      namespace("default"),
      "none",
    ],
    [
      "a name that is listed and matched by a glob is reported as exact",
      { toNamespaces: ["*", "a"] },
      namespace("a"),
      "exactName",
    ],
    [
      "a label selector matches a namespace excluded from wildcard matching",
      { toNamespaceSelector: { matchLabels: { team: "a" } } },
      namespace("x", { ...excluded, labels: { team: "a" } }),
      "labelSelector",
    ],
    [
      "a label selector does not match other labels",
      { toNamespaceSelector: { matchLabels: { team: "a" } } },
      namespace("x", { labels: { team: "b" } }),
      "none",
    ],
    [
      "the empty label selector matches every namespace",
      { toNamespaceSelector: {} },
      namespace("x", excluded),
      "labelSelector",
    ],
    [
      "a JSONPath selector matches a namespace excluded from wildcard matching",
      { dangerousToNamespacesSelector: [{ key: "metadata.labels.team", operator: "In", values: ["a"] }] },
      namespace("x", { ...excluded, labels: { team: "a" } }),
      "jsonPathSelector",
    ],
    [
      "JSONPath selector entries must all hold",
      {
        dangerousToNamespacesSelector: [
          { key: "metadata.labels.team", operator: "In", values: ["a"] },
          { key: "metadata.name", operator: "NotIn", values: ["x"] },
        ],
      },
      namespace("x", { labels: { team: "a" } }),
      "none",
    ],
    [
      "NotIn matches a missing JSONPath key",
      { dangerousToNamespacesSelector: [{ key: "metadata.labels.team", operator: "NotIn", values: ["a"] }] },
      namespace("x"),
      "jsonPathSelector",
    ],
    [
      "In with the empty string matches a missing JSONPath key",
      { dangerousToNamespacesSelector: [{ key: "metadata.labels.team", operator: "In", values: [""] }] },
      namespace("x"),
      "jsonPathSelector",
    ],
    [
      "DoesNotExist matches a missing JSONPath key",
      { dangerousToNamespacesSelector: [{ key: "metadata.labels.team", operator: "DoesNotExist" }] },
      namespace("x"),
      "jsonPathSelector",
    ],
    [
      "Exists does not match a JSONPath value that prints empty",
      { dangerousToNamespacesSelector: [{ key: "metadata.labels.team", operator: "Exists" }] },
      namespace("x", { labels: { team: "" } }),
      "none",
    ],
    [
      "a JSONPath key may read the namespace status",
      { dangerousToNamespacesSelector: [{ key: "status.phase", operator: "In", values: ["Active"] }] },
      namespace("x"),
      "jsonPathSelector",
    ],
    [
      "a terminating namespace is never a destination",
      { toNamespace: "x", toNamespaceSelector: {} },
      namespace("x", { terminating: true }),
      "none",
    ],
    [
      "a glob is reported before a label selector",
      { toNamespace: "*", toNamespaceSelector: {} },
      namespace("x"),
      "glob",
    ],
    [
      "a label selector is reported before a JSONPath selector",
      {
        toNamespaceSelector: {},
        dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "Exists" }],
      },
      namespace("x"),
      "labelSelector",
    ],
    [
      "an excluded namespace can still be reached by a selector when a glob matches it",
      { toNamespace: "*", toNamespaceSelector: {} },
      namespace("x", excluded),
      "labelSelector",
    ],
  ];
  for (const [name, spec, ns, rule] of rows) {
    test(name, () => assert.equal(ruleFor(spec, ns), rule));
  }

  test("the verdict says which entry or selector reaches the namespace, or why none does", () => {
    const spec: SecretExportSpec = {
      toNamespace: "solo",
      toNamespaces: ["a", "team-*"],
      toNamespaceSelector: {
        matchLabels: { team: "a" },
        matchExpressions: [{ key: "env", operator: "Exists" }],
      },
      dangerousToNamespacesSelector: [
        { key: "metadata.labels.tier", operator: "In", values: ["db", "web"] },
        { key: "metadata.labels.legacy", operator: "DoesNotExist" },
      ],
    };
    const compiled = compile(spec);
    const rows: [ns: NamespaceView, verdict: Reach][] = [
      [namespace("solo"), { reached: true, rule: "exactName", detail: "listed in spec.toNamespace" }],
      [namespace("a"), { reached: true, rule: "exactName", detail: "listed in spec.toNamespaces[0]" }],
      [namespace("team-x"), { reached: true, rule: "glob", detail: 'matches spec.toNamespaces[1] "team-*"' }],
      [
        namespace("x", { labels: { team: "a", env: "" } }),
        { reached: true, rule: "labelSelector", detail: "matches spec.toNamespaceSelector env,team=a" },
      ],
      [
        namespace("x", { labels: { tier: "web" } }),
        {
          reached: true,
          rule: "jsonPathSelector",
          detail:
            'matches spec.dangerousToNamespacesSelector metadata.labels.tier In ["db","web"] and metadata.labels.legacy DoesNotExist',
        },
      ],
      [namespace("solo", { terminating: true }), { reached: false, why: "the namespace is being deleted" }],
      [namespace("x"), { reached: false, why: "no toNamespace/toNamespaces entry or selector matches it" }],
      [
        namespace("team-x", excluded),
        {
          reached: false,
          why: `spec.toNamespaces[1] "team-*" matches its name, but the namespace is annotated ${ANNOTATION_EXCLUDED_FROM_WILDCARD}`,
        },
      ],
    ];
    for (const [ns, verdict] of rows) assert.deepEqual(reach(compiled, ns), verdict, ns.name);
    assert.deepEqual(reach(compile({ toNamespaceSelector: {} }), namespace("x")), {
      reached: true,
      rule: "labelSelector",
      detail: "matches spec.toNamespaceSelector {}",
    });
  });
});

describe("usesNamespaceMetadata and exactNames", () => {
  test("tell whether only namespace names matter, and which names", () => {
    const rows: [spec: SecretExportSpec, usesMetadata: boolean, names: string[] | undefined][] = [
      [{ toNamespace: "a", toNamespaces: ["b", "a"] }, false, ["b", "a"]],
      [{ toNamespaces: ["a", "*"] }, true, undefined],
      [{ toNamespaces: ["a", "team-?"] }, true, undefined],
      [{ toNamespace: "a", toNamespaceSelector: { matchLabels: { team: "a" } } }, true, undefined],
      [
        { toNamespace: "a", dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "Exists" }] },
        true,
        undefined,
      ],
    ];
    for (const [spec, usesMetadata, names] of rows) {
      const compiled = compile(spec);
      assert.equal(usesNamespaceMetadata(compiled), usesMetadata, JSON.stringify(spec));
      assert.deepEqual(exactNames(compiled), names, JSON.stringify(spec));
    }
  });
});
