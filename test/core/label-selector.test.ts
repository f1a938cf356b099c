import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkOperator, compileLabelSelector } from "../../src/core/label-selector.ts";
import type { LabelSelector, StringMap } from "../../src/core/types.ts";

const FIELD = "spec.toNamespaceSelector";

function matcher(selector: LabelSelector) {
  const compiled = compileLabelSelector(selector, FIELD);
  assert.ok(compiled.ok, JSON.stringify(compiled));
  return compiled.matcher;
}

describe("compileLabelSelector", () => {
  test("matches labels with Kubernetes semantics", () => {
    const expression = (key: string, operator: string, values?: string[]): LabelSelector => ({
      matchExpressions: [{ key, operator, values }],
    });
    const both: LabelSelector = {
      matchLabels: { team: "a" },
      matchExpressions: [{ key: "env", operator: "In", values: ["dev"] }],
    };
    const team = { matchLabels: { team: "a" } };
    const rows: [name: string, selector: LabelSelector, labels: StringMap, matches: boolean][] = [
      ["the empty selector matches a namespace without labels", {}, {}, true],
      [
        "empty matchLabels and matchExpressions match everything",
        { matchLabels: {}, matchExpressions: [] },
        { a: "b" },
        true,
      ],
      ["matchLabels matches an equal value", team, { team: "a", other: "x" }, true],
      ["matchLabels does not match another value", team, { team: "b" }, false],
      ["matchLabels does not match a missing label", team, {}, false],
      ["In matches any listed value", expression("env", "In", ["dev", "stage"]), { env: "stage" }, true],
      ["In does not match a missing label", expression("env", "In", ["dev"]), {}, false],
      ["NotIn matches a missing label", expression("env", "NotIn", ["prod"]), {}, true],
      ["NotIn matches another value", expression("env", "NotIn", ["prod"]), { env: "dev" }, true],
      ["NotIn does not match a listed value", expression("env", "NotIn", ["prod"]), { env: "prod" }, false],
      ["Exists matches a label with an empty value", expression("tier", "Exists"), { tier: "" }, true],
      ["Exists does not match a missing label", expression("tier", "Exists"), {}, false],
      ["DoesNotExist matches a missing label", expression("tier", "DoesNotExist"), {}, true],
      [
        "DoesNotExist does not match a present label",
        expression("tier", "DoesNotExist"),
        { tier: "x" },
        false,
      ],
      ["matchLabels and every expression must all hold", both, { team: "a", env: "prod" }, false],
      ["matchLabels and expressions that all hold match", both, { team: "a", env: "dev" }, true],
    ];
    for (const [name, selector, labels, matches] of rows)
      assert.equal(matcher(selector).matches(labels), matches, name);
  });

  test("describes itself as kubectl does, requirements sorted by key", () => {
    const selector: LabelSelector = {
      matchLabels: { team: "a" },
      matchExpressions: [
        { key: "legacy", operator: "DoesNotExist" },
        { key: "env", operator: "In", values: ["stage", "dev"] },
        { key: "tier", operator: "NotIn", values: ["db"] },
        { key: "owner", operator: "Exists" },
      ],
    };
    assert.equal(matcher(selector).description, "env in (dev,stage),!legacy,owner,team=a,tier notin (db)");
    assert.equal(matcher({}).description, "");
  });

  test("an invalid selector is reported with the exact field path", () => {
    const rows: [name: string, selector: LabelSelector, problems: [field: string, message: RegExp][]][] = [
      [
        "In without values",
        {
          matchExpressions: [
            { key: "a", operator: "Exists" },
            { key: "b", operator: "In", values: [] },
          ],
        },
        [
          [
            `${FIELD}.matchExpressions[1].values`,
            /^Values must be specified when `operator` is 'In' or 'NotIn'$/,
          ],
        ],
      ],
      [
        "NotIn without values",
        { matchExpressions: [{ key: "b", operator: "NotIn" }] },
        [[`${FIELD}.matchExpressions[0].values`, /must be specified/]],
      ],
      [
        "Exists with values",
        { matchExpressions: [{ key: "b", operator: "Exists", values: ["x"] }] },
        [
          [
            `${FIELD}.matchExpressions[0].values`,
            /^Values may not be specified when `operator` is 'Exists' or 'DoesNotExist'$/,
          ],
        ],
      ],
      [
        "an unknown operator",
        { matchExpressions: [{ key: "b", operator: "Equals", values: ["x"] }] },
        [[`${FIELD}.matchExpressions[0].operator`, /"Equals".*In, NotIn, Exists or DoesNotExist/]],
      ],
      [
        "a key with a space",
        { matchExpressions: [{ key: "bad key", operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /Invalid label key "bad key": the name must be/]],
      ],
      [
        "an empty key",
        { matchExpressions: [{ key: "", operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /the name/]],
      ],
      [
        "a key with two slashes",
        { matchExpressions: [{ key: "a/b/c", operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /at most one '\/'/]],
      ],
      [
        "an empty prefix",
        { matchExpressions: [{ key: "/team", operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /prefix/]],
      ],
      [
        "an upper-case prefix",
        { matchExpressions: [{ key: "Example.com/team", operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /prefix/]],
      ],
      [
        "a prefix over 253 characters",
        { matchExpressions: [{ key: `${"a".repeat(254)}/team`, operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /prefix/]],
      ],
      [
        "an empty name",
        { matchExpressions: [{ key: "example.com/", operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /the name/]],
      ],
      [
        "a name over 63 characters",
        { matchExpressions: [{ key: "a".repeat(64), operator: "Exists" }] },
        [[`${FIELD}.matchExpressions[0].key`, /the name/]],
      ],
      [
        "a value that starts with a dash",
        { matchExpressions: [{ key: "a", operator: "In", values: ["ok", "-bad"] }] },
        [[`${FIELD}.matchExpressions[0].values[1]`, /Invalid label value "-bad"/]],
      ],
      [
        "a value over 63 characters",
        { matchExpressions: [{ key: "a", operator: "In", values: ["v".repeat(64)] }] },
        [[`${FIELD}.matchExpressions[0].values[0]`, /Invalid label value/]],
      ],
      [
        "an invalid matchLabels key",
        { matchLabels: { "bad key": "x" } },
        [[`${FIELD}.matchLabels[bad key]`, /Invalid label key/]],
      ],
      [
        "an invalid matchLabels value",
        { matchLabels: { team: "a b" } },
        [[`${FIELD}.matchLabels[team]`, /Invalid label value "a b"/]],
      ],
      [
        "several problems at once",
        { matchLabels: { "-x": "y" }, matchExpressions: [{ key: "_k", operator: "In" }] },
        [
          [`${FIELD}.matchLabels[-x]`, /Invalid label key/],
          [`${FIELD}.matchExpressions[0].values`, /must be specified/],
          [`${FIELD}.matchExpressions[0].key`, /Invalid label key/],
        ],
      ],
    ];
    for (const [name, selector, expected] of rows) {
      const compiled = compileLabelSelector(selector, FIELD);
      assert.equal(compiled.ok, false, name);
      if (compiled.ok) continue;
      assert.deepEqual(
        compiled.problems.map((p) => p.field),
        expected.map(([field]) => field),
        name,
      );
      compiled.problems.forEach((p, i) => assert.match(p.message, expected[i]?.[1] ?? /^$/, name));
    }
  });

  test("accepts the keys and values the API server accepts", () => {
    const selector: LabelSelector = {
      matchLabels: { "example.com/team": "", "kubernetes.io/metadata.name": "a_b.c-D" },
      matchExpressions: [{ key: "A.b_c-1", operator: "In", values: ["x".repeat(63), "", "1"] }],
    };
    assert.equal(compileLabelSelector(selector, FIELD).ok, true);
  });
});

describe("checkOperator", () => {
  test("returns the operator when its values fit", () => {
    const rows: [operator: string, values: string[]][] = [
      ["In", ["a"]],
      ["NotIn", ["a", "b"]],
      ["Exists", []],
      ["DoesNotExist", []],
    ];
    for (const [operator, values] of rows) assert.equal(checkOperator(operator, values, "f"), operator);
  });
});
