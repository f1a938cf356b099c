import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileJsonPath } from "../../src/core/jsonpath.ts";

// The namespace of carvel's verified table (secretgen-behaviour.md §1.7), as carvel serialises it.
const namespace = {
  metadata: {
    name: "n1",
    labels: { team: "a", "kubernetes.io/metadata.name": "n1" },
    annotations: { "field.cattle.io/projectId": "cluster1:project1", one: "1" },
    ownerReferences: [{ kind: "Thing", name: "owner" }],
  },
  spec: { finalizers: ["kubernetes", "other"] },
  status: { phase: "Active" },
};

function evaluate(key: string, obj: unknown = namespace): string {
  const compiled = compileJsonPath(key);
  assert.ok(compiled.ok, `${key}: ${compiled.ok ? "" : compiled.message}`);
  return compiled.evaluate(obj);
}

describe("compileJsonPath", () => {
  test("reproduces every row of carvel's verified JSONPath table", () => {
    const rows: [key: string, printed: string][] = [
      [String.raw`metadata.annotations['field\.cattle\.io/projectId']`, "cluster1:project1"],
      [String.raw`metadata.annotations.field\.cattle\.io/projectId`, "cluster1:project1"],
      ["metadata.annotations['field.cattle.io/projectId']", ""],
      ["metadata.labels['kubernetes.io/metadata.name']", ""],
      [String.raw`metadata.labels.kubernetes\.io/metadata\.name`, "n1"],
      ["metadata.annotations.one", "1"],
      ["metadata.labels.team", "a"],
      ["metadata.name", "n1"],
      ["metadata['name']", "n1"],
      ["metadata.annotations.missing", ""],
      ["metadata.labels.Team", ""],
      ["metadata.labels", '{"kubernetes.io/metadata.name":"n1","team":"a"}'],
      ["status.phase", "Active"],
      [".metadata.name", "n1"],
      ["metadata.labels[*]", ""],
    ];
    for (const [key, printed] of rows) assert.equal(evaluate(key), printed, key);
    assert.equal(compileJsonPath("bad[").ok, false);
  });

  test("a missing key or a field of a scalar prints the empty string", () => {
    const rows: [key: string, obj: unknown][] = [
      ["metadata.name.first", namespace],
      ["spec.missing.deeper", namespace],
      ["metadata.name", {}],
      ["metadata.name", null],
      ["metadata.name", { metadata: null }],
    ];
    for (const [key, obj] of rows) assert.equal(evaluate(key, obj), "", key);
  });

  test("scalars print as Go prints them", () => {
    const obj = {
      spec: {
        one: 1,
        half: 0.5,
        big: 123456,
        million: 1e6,
        precise: 1234567.5,
        tiny: 0.00001,
        yes: true,
        no: null,
      },
    };
    const rows: [key: string, printed: string][] = [
      ["spec.one", "1"],
      ["spec.half", "0.5"],
      ["spec.big", "123456"],
      ["spec.million", "1e+06"],
      ["spec.precise", "1.2345675e+06"],
      ["spec.tiny", "1e-05"],
      ["spec.yes", "true"],
      ["spec.no", "<nil>"],
    ];
    for (const [key, printed] of rows) assert.equal(evaluate(key, obj), printed, key);
  });

  test("maps and arrays print as Go's encoding/json: sorted keys, HTML characters escaped", () => {
    const obj = {
      metadata: { labels: { b: "x", 10: "y", 2: "z", a: "<&>" } },
      spec: { list: [1, "a", null, { b: 1e21, a: 1e6 }] },
    };
    assert.equal(
      evaluate("metadata.labels", obj),
      String.raw`{"10":"y","2":"z","a":"\u003c\u0026\u003e","b":"x"}`,
    );
    assert.equal(evaluate("spec.list", obj), '[1,"a",null,{"a":1000000,"b":1e+21}]');
  });

  test("array indexes pick elements and print nothing when out of range or applied to a map", () => {
    const rows: [key: string, printed: string][] = [
      ["spec.finalizers[0]", "kubernetes"],
      ["spec.finalizers[1]", "other"],
      ["spec.finalizers[-1]", "other"],
      ["spec.finalizers[2]", ""],
      ["spec.finalizers[-3]", ""],
      ["spec.finalizers[*]", "kubernetes other"],
      ["metadata.ownerReferences[0].name", "owner"],
      ["metadata.labels[0]", ""],
    ];
    for (const [key, printed] of rows) assert.equal(evaluate(key), printed, key);
  });

  test("several results are joined by spaces, in sorted key order where Go's order is random", () => {
    const rows: [key: string, printed: string][] = [
      [".name", "n1 owner"],
      ["metadata.labels.*", "n1 a"],
      ["..phase", "Active"],
    ];
    for (const [key, printed] of rows) assert.equal(evaluate(key), printed, key);
  });

  test("spaces between steps are skipped as client-go skips them", () => {
    assert.equal(evaluate("metadata.name "), "n1");
    assert.equal(evaluate("metadata ['name']"), "n1");
  });

  test("a backslash keeps the next character in the name and is itself dropped", () => {
    const obj = { metadata: { labels: { "a}b": "braced", "a[0]": "indexed" } } };
    assert.equal(evaluate(String.raw`metadata.labels.a\}b`, obj), "braced");
    assert.equal(evaluate(String.raw`metadata.labels.a\[0\]`, obj), "indexed");
  });

  test("a key that does not parse, or uses an unsupported construct, is reported", () => {
    const rows: [key: string, message: RegExp][] = [
      ["", /empty/],
      ["bad[", /not closed/],
      ["metadata.labels['team'", /not closed/],
      ["metadata.", /field name is empty/],
      [" metadata.name", /field name is empty/],
      ["metadata.labels['']", /field name is empty/],
      ["metadata..", /must be followed by a field name/],
      ["....name", /cannot follow/],
      ["spec.finalizers[?(@ == 'kubernetes')]", /filters .* not supported/],
      ["spec.finalizers[0,1]", /unions .* not supported/],
      ["spec.finalizers[0:1]", /slices .* not supported/],
      ["spec.finalizers[]", /invalid index/],
      ['metadata["name"]', /invalid index/],
      ["metadata.name}", /"}"/],
      ["metadata.name{x}", /unexpected character "{"/],
      ["metadata 'name'", /quoted text/],
      ["metadata name", /a name must follow "."/],
      ["metadata.labels['a b']", /a name must follow "."/],
      ["metadata 1", /a name must follow "."/],
      ["metadata\nname", /unexpected character/],
      ["metadata\tname", /unexpected character/],
    ];
    for (const [key, message] of rows) {
      const compiled = compileJsonPath(key);
      assert.equal(compiled.ok, false, JSON.stringify(key));
      if (!compiled.ok) assert.match(compiled.message, message, JSON.stringify(key));
    }
  });
});
