import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { structuralSchema } from "../../src/api/structural-schema.ts";

test("optional fields are left out of required, and descriptions are kept", () => {
  const schema = z.object({ a: z.string().describe("the a"), b: z.string().optional() });
  assert.deepEqual(structuralSchema(schema), {
    type: "object",
    properties: { a: { type: "string", description: "the a" }, b: { type: "string" } },
    required: ["a"],
  });
});

test("a record becomes a map: additionalProperties with the value schema and no properties", () => {
  assert.deepEqual(structuralSchema(z.record(z.string(), z.string())), {
    type: "object",
    additionalProperties: { type: "string" },
  });
});

test("integers are int64 without zod's safe-integer bounds, keeping real bounds", () => {
  assert.deepEqual(structuralSchema(z.int()), { type: "integer", format: "int64" });
  assert.deepEqual(structuralSchema(z.int().min(0)), { type: "integer", format: "int64", minimum: 0 });
});

test("enums, lists and CEL rules from metadata come through", () => {
  const rule = { rule: "size(self) > 0", message: "must not be empty" };
  const schema = z.array(z.enum(["In", "NotIn"])).meta({ "x-kubernetes-validations": [rule] });
  assert.deepEqual(structuralSchema(schema), {
    type: "array",
    items: { type: "string", enum: ["In", "NotIn"] },
    "x-kubernetes-validations": [rule],
  });
});

test("the schema is the input side: a pipe contributes what clients may send", () => {
  const schema = z.object({ from: z.string().optional().pipe(z.string().min(1)) });
  assert.deepEqual(structuralSchema(schema), { type: "object", properties: { from: { type: "string" } } });
});

const NOT_STRUCTURAL: [string, z.ZodType, RegExp][] = [
  ["a union (no single type)", z.object({ a: z.union([z.string(), z.number()]) }), /schema\.a: .*anyOf/],
  [
    "a strict object (additionalProperties: false)",
    z.strictObject({ a: z.string() }),
    /additionalProperties/,
  ],
  ["a nullable field", z.object({ a: z.string().nullable() }), /schema\.a: .*nullable/],
  ["a tuple", z.tuple([z.string()]), /schema: /],
];

for (const [kind, schema, error] of NOT_STRUCTURAL) {
  test(`${kind} has no structural form and fails generation`, () => {
    assert.throws(() => structuralSchema(schema), error);
  });
}
