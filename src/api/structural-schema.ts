// zod schema → the structural OpenAPI v3 schema a CustomResourceDefinition needs. zod's own JSON
// Schema (input side, OpenAPI 3.0 dialect) is mapped keyword by keyword; anything Kubernetes would
// reject or that has no mapping here (unions, strict objects, refs, ...) throws, so a schema change
// can neither produce a CRD the API server refuses nor one that silently validates less.
import { z } from "zod";
import type { JSONSchema } from "zod/v4/core";

export interface ValidationRule {
  rule: string;
  message?: string;
}

/** Wire format (the keys Kubernetes reads), keys in alphabetical order as controller-gen writes them. */
export interface StructuralSchema {
  additionalProperties?: StructuralSchema;
  description?: string;
  enum?: unknown[];
  format?: string;
  items?: StructuralSchema;
  maximum?: number;
  minLength?: number;
  minimum?: number;
  properties?: Record<string, StructuralSchema>;
  required?: string[];
  type: string;
  "x-kubernetes-validations"?: ValidationRule[];
}

export function structuralSchema(schema: z.ZodType): StructuralSchema {
  return convert(z.toJSONSchema(schema, { io: "input", target: "openapi-3.0" }), "");
}

const MAPPED = new Set<string>([
  "additionalProperties",
  "description",
  "enum",
  "format",
  "items",
  "maximum",
  "minLength",
  "minimum",
  "properties",
  "required",
  "type",
  "x-kubernetes-validations",
]);

function convert(node: JSONSchema.JSONSchema, at: string): StructuralSchema {
  const unmapped = Object.keys(node).filter((keyword) => !MAPPED.has(keyword));
  if (unmapped.length > 0) throw new Error(`schema${at}: no structural form for ${unmapped.join(", ")}`);
  if (typeof node.type !== "string") throw new Error(`schema${at}: a structural schema needs one type`);
  return defined({
    additionalProperties: node.additionalProperties === undefined ? undefined : mapValues(node, at),
    description: node.description,
    enum: node.enum,
    format: node.type === "integer" ? "int64" : node.format,
    items: node.items === undefined ? undefined : convert(single(node.items, `${at}[]`), `${at}[]`),
    maximum: bounded(node.maximum),
    minLength: node.minLength,
    minimum: bounded(node.minimum),
    properties: node.properties && propertiesOf(node.properties, at),
    required: node.required,
    type: node.type,
    "x-kubernetes-validations": node["x-kubernetes-validations"] as ValidationRule[] | undefined,
  });
}

const defined = <T extends object>(fields: T): T =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;

function propertiesOf(properties: Record<string, JSONSchema._JSONSchema>, at: string) {
  const entries = Object.entries(properties).map(([name, property]) => {
    const path = `${at}.${name}`;
    return [name, convert(single(property, path), path)] as const;
  });
  return Object.fromEntries(entries);
}

/** zod bounds z.int() by ±Number.MAX_SAFE_INTEGER; for Kubernetes `format: int64` says it. */
const bounded = (limit: number | undefined) =>
  Math.abs(limit ?? 0) === Number.MAX_SAFE_INTEGER ? undefined : limit;

/** A map (z.record). Kubernetes rejects additionalProperties next to properties. */
function mapValues(node: JSONSchema.JSONSchema, at: string): StructuralSchema {
  if (node.properties) throw new Error(`schema${at}: properties and additionalProperties together`);
  return convert(single(node.additionalProperties, `${at}{}`), `${at}{}`);
}

function single(schema: JSONSchema._JSONSchema | JSONSchema._JSONSchema[] | undefined, at: string) {
  if (typeof schema !== "object" || Array.isArray(schema)) {
    throw new Error(`schema${at}: expected one schema, got ${JSON.stringify(schema)}`);
  }
  return schema;
}
