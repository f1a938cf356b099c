// The secretgen.carvel.dev/v1alpha1 API, written once: the controller parses `spec` with these
// schemas, and crds/*.yaml is generated from them (src/api/crds.ts). Shapes follow carvel's CRDs, so
// carvel's YAML applies unchanged; everything carvel only reports in status (an export with no
// destination, `values` that do not fit the operator) is left to the controller to report too.
import { z } from "zod";
import type {
  ClusterPlaceholderStatus,
  Condition,
  FieldProblem,
  GenericStatus,
  NamespaceNotServed,
  SecretExportSpec,
} from "../core/types.ts";

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;
const NON_EMPTY = "Expected to be non-empty";

const requirementSchema = (key: string) =>
  z.object({
    key: z.string().describe(key),
    operator: z.enum(OPERATORS),
    values: z.array(z.string()).optional().describe("The values for In and NotIn; none for the others."),
  });

const labelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      // toNamespaceSelector is ours, not carvel's, so no existing YAML can trip over this rule.
      requirementSchema("A label key.").meta({
        "x-kubernetes-validations": [
          {
            rule: "self.operator in ['In', 'NotIn'] == (has(self.values) && size(self.values) > 0)",
            message: "values must be non-empty when operator is In or NotIn, and empty otherwise",
          },
        ],
      }),
    )
    .optional(),
});

export const secretExportSpecSchema = z.object({
  toNamespace: z
    .string()
    .optional()
    .describe('A namespace name or glob to offer the Secret to; "*" means every namespace.'),
  toNamespaces: z.array(z.string()).optional().describe("Namespace names or globs to offer the Secret to."),
  dangerousToNamespacesSelector: z
    .array(
      requirementSchema(
        "A kubectl JSONPath on the Namespace, dots in names escaped: metadata.annotations['field\\.cattle\\.io/projectId']",
      ),
    )
    .optional()
    .describe("Offers the Secret to every namespace that satisfies all of these requirements."),
  toNamespaceSelector: labelSelectorSchema
    .optional()
    .describe("Offers the Secret to every namespace whose labels match this label selector."),
});

export const secretImportSpecSchema = z.object({
  // Optional on the wire, as in carvel's CRD, so carvel YAML applies unchanged; carvel rejects a
  // missing or empty fromNamespace in status, and so does parsing here, with carvel's words.
  fromNamespace: z
    .string()
    .optional()
    .pipe(z.string({ error: NON_EMPTY }).min(1, NON_EMPTY))
    .describe("The namespace of the SecretExport and Secret to import."),
});

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().meta({ format: "date-time" }).optional(),
  observedGeneration: z.int().min(0).optional(),
}) satisfies z.ZodType<Condition>;

// All optional, as in carvel's CRD: statuses carvel wrote lack our fields, and on an API server
// without CRD validation ratcheting a required status field would block every update of them.
export const genericStatusSchema = z.object({
  observedGeneration: z.int().min(0).optional(),
  conditions: z.array(conditionSchema).optional(),
  friendlyDescription: z.string().optional(),
}) satisfies z.ZodType<GenericStatus>;

export const secretExportStatusSchema = genericStatusSchema.extend({
  observedSecretResourceVersion: z.string().optional(),
  namespacesReached: z.int().min(0).optional().describe("How many namespaces the export reaches."),
});

export const secretImportStatusSchema = genericStatusSchema;

export type SecretImportSpec = z.infer<typeof secretImportSpecSchema>;
export type SecretExportStatus = z.infer<typeof secretExportStatusSchema>;
export type SecretImportStatus = z.infer<typeof secretImportStatusSchema>;

export type ParsedSpec<T> = { ok: true; spec: T } | { ok: false; problems: FieldProblem[] };

/** Parses a SecretExport's `spec` into the shape the decision code takes (core/types.ts). */
export const parseExportSpec = (spec: unknown): ParsedSpec<SecretExportSpec> =>
  parseSpec(secretExportSpecSchema, spec);

export const parseImportSpec = (spec: unknown): ParsedSpec<SecretImportSpec> =>
  parseSpec(secretImportSpecSchema, spec);

function parseSpec<T>(schema: z.ZodType<T>, spec: unknown): ParsedSpec<T> {
  const result = schema.safeParse(spec);
  if (result.success) return { ok: true, spec: result.data };
  const problems = result.error.issues.map((issue) => ({
    field: fieldPath(issue.path),
    message: issue.message,
  }));
  return { ok: false, problems };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `spec.toNamespaces[0]`, `spec.toNamespaceSelector.matchLabels["app.kubernetes.io/name"]` */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((field, key) => {
    if (typeof key === "number") return `${field}[${key}]`;
    const name = String(key);
    return IDENTIFIER.test(name) ? `${field}.${name}` : `${field}[${JSON.stringify(name)}]`;
  }, "spec");
}

// ClusterPlaceholder (secret-export.dev/v1alpha1, SPEC §10): ours, so its schema is as strict as the
// API server allows; what it cannot check (name syntax, globs, label selectors) is reported in status.

export const clusterPlaceholderSpecSchema = z.object({
  secretName: z.string().min(1).describe("The placeholder Secret to keep in every matching namespace."),
  namespaces: z
    .object({
      names: z
        .array(z.string())
        .optional()
        .describe("Namespace names or globs; globs skip namespaces excluded from wildcard matching."),
      selector: labelSelectorSchema.optional().describe("Matches namespaces whose labels match."),
      annotations: z
        .record(z.string(), z.string())
        .optional()
        .describe("Matches namespaces that carry all of these annotations with these values."),
      withPods: labelSelectorSchema
        .optional()
        .describe("Matches namespaces with at least one pod whose labels match (labels only)."),
    })
    .describe("Where placeholders are kept: a namespace matches if any of the given conditions holds."),
  serviceAccounts: z
    .array(z.string())
    .optional()
    .describe("ServiceAccounts in each matching namespace whose imagePullSecrets get the placeholder."),
});

export const namespaceNotServedSchema = z.object({
  namespace: z.string(),
  reason: z.string(),
  message: z.string(),
}) satisfies z.ZodType<NamespaceNotServed>;

export const clusterPlaceholderStatusSchema = z.object({
  observedGeneration: z.int().min(0).optional(),
  conditions: z.array(conditionSchema).optional(),
  namespacesServed: z.int().min(0).optional().describe("How many matching namespaces have the placeholder."),
  namespacesNotServed: z
    .array(namespaceNotServedSchema)
    .optional()
    .describe("Matching namespaces without the placeholder, and why; the first few, by name."),
  namespacesNotServedCount: z
    .int()
    .min(0)
    .optional()
    .describe("How many matching namespaces are not served."),
}) satisfies z.ZodType<ClusterPlaceholderStatus>;

export type ClusterPlaceholderSpec = z.infer<typeof clusterPlaceholderSpecSchema>;

export const parseClusterPlaceholderSpec = (spec: unknown): ParsedSpec<ClusterPlaceholderSpec> =>
  parseSpec(clusterPlaceholderSpecSchema, spec);
