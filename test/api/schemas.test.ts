import assert from "node:assert/strict";
import { test } from "node:test";
import type { z } from "zod";
import {
  type conditionSchema,
  type genericStatusSchema,
  parseExportSpec,
  parseImportSpec,
} from "../../src/api/schemas.ts";
import type { Condition, GenericStatus } from "../../src/core/types.ts";

type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Each assignable to the other, with the same fields: mutual assignability alone misses an optional one. */
type Same<A, B> = Mutual<A, B> extends true ? Mutual<keyof A, keyof B> : false;

// carvel's documented SecretExport examples (docs/secret-export.md), as the API server hands them over.
const CARVEL_EXPORT_SPECS = {
  "toNamespace *": { toNamespace: "*" },
  "toNamespaces list": { toNamespaces: ["user2", "user3", "*"] },
  dangerousToNamespacesSelector: {
    dangerousToNamespacesSelector: [
      {
        key: "metadata.annotations['field\\.cattle\\.io/projectId']",
        operator: "In",
        values: ["cluster1:project1"],
      },
      { key: "metadata.labels.team", operator: "Exists" },
    ],
  },
};

for (const [example, spec] of Object.entries(CARVEL_EXPORT_SPECS)) {
  test(`an export spec parses carvel's ${example} example unchanged`, () => {
    assert.deepEqual(parseExportSpec(spec), { ok: true, spec });
  });
}

test("an export spec parses a toNamespaceSelector label selector", () => {
  const spec = {
    toNamespaceSelector: {
      matchLabels: { "app.kubernetes.io/part-of": "tenant" },
      matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }],
    },
  };
  assert.deepEqual(parseExportSpec(spec), { ok: true, spec });
});

test("an export spec without destinations or with empty names parses: the controller reports it, as carvel does", () => {
  assert.deepEqual(parseExportSpec({}), { ok: true, spec: {} });
  assert.deepEqual(parseExportSpec({ toNamespace: "", toNamespaces: [""] }), {
    ok: true,
    spec: { toNamespace: "", toNamespaces: [""] },
  });
});

test("an export spec parses In without values: carvel reports that in status, not at apply time", () => {
  const spec = { dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "In" }] };
  assert.deepEqual(parseExportSpec(spec), { ok: true, spec });
});

test("an export spec drops fields it does not know, as the API server prunes them", () => {
  assert.deepEqual(parseExportSpec({ toNamespace: "a", toNamespaceSelectr: {} }), {
    ok: true,
    spec: { toNamespace: "a" },
  });
});

const TYPE_ERRORS: [string, unknown, string][] = [
  ["toNamespace not a string", { toNamespace: 3 }, "spec.toNamespace"],
  ["toNamespaces not a list", { toNamespaces: "a" }, "spec.toNamespaces"],
  ["toNamespaces entry not a string", { toNamespaces: ["a", 1] }, "spec.toNamespaces[1]"],
  [
    "an unknown operator",
    { dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "Equals" }] },
    "spec.dangerousToNamespacesSelector[0].operator",
  ],
  [
    "a selector entry without key",
    { dangerousToNamespacesSelector: [{ operator: "Exists" }] },
    "spec.dangerousToNamespacesSelector[0].key",
  ],
  [
    "a label value that is not a string",
    { toNamespaceSelector: { matchLabels: { "app.kubernetes.io/name": true } } },
    'spec.toNamespaceSelector.matchLabels["app.kubernetes.io/name"]',
  ],
  ["no spec at all", undefined, "spec"],
];

for (const [problem, spec, field] of TYPE_ERRORS) {
  test(`an export spec with ${problem} is rejected, naming ${field}`, () => {
    const parsed = parseExportSpec(spec);
    assert.equal(parsed.ok, false);
    assert.deepEqual(!parsed.ok && parsed.problems.map((p) => p.field), [field]);
  });
}

test("an unknown operator is reported with the operators allowed", () => {
  const parsed = parseExportSpec({ dangerousToNamespacesSelector: [{ key: "k", operator: "Equals" }] });
  assert.match(
    !parsed.ok ? (parsed.problems[0]?.message ?? "") : "",
    /"In"\|"NotIn"\|"Exists"\|"DoesNotExist"/,
  );
});

test("an import spec parses fromNamespace", () => {
  assert.deepEqual(parseImportSpec({ fromNamespace: "platform" }), {
    ok: true,
    spec: { fromNamespace: "platform" },
  });
});

test("an import spec without fromNamespace, or an empty one, is reported in carvel's words", () => {
  const expected = {
    ok: false,
    problems: [{ field: "spec.fromNamespace", message: "Expected to be non-empty" }],
  };
  assert.deepEqual(parseImportSpec({}), expected);
  assert.deepEqual(parseImportSpec({ fromNamespace: "" }), expected);
});

test("an import spec whose fromNamespace is not a string is reported as a type error", () => {
  const parsed = parseImportSpec({ fromNamespace: ["a"] });
  assert.deepEqual(parsed, {
    ok: false,
    problems: [{ field: "spec.fromNamespace", message: "Invalid input: expected string, received array" }],
  });
});

test("the status schemas describe exactly the core's Condition and GenericStatus (checked by tsc)", () => {
  const same: [
    Same<z.infer<typeof conditionSchema>, Condition>,
    Same<z.infer<typeof genericStatusSchema>, GenericStatus>,
  ] = [true, true];
  assert.deepEqual(same, [true, true]);
});
