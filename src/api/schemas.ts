// The secretgen.carvel.dev/v1alpha1 API, written once: the controller parses `spec` with these
// schemas, and crds/*.yaml is generated from them (src/api/crds.ts). Shapes follow carvel's CRDs, so
// carvel's YAML applies unchanged; everything carvel only reports in status (an export with no
// destination, `values` that do not fit the operator) is left to the controller to report too.
import { z } from "zod";
import type {
  ClusterPlaceholderSpec,
  ClusterPlaceholderStatus,
  Condition,
  FieldProblem,
  GenericStatus,
  NamespaceNotServed,
  RegistryCredentialSpec,
  RegistryCredentialStatus,
  SecretExportSpec,
} from "../core/types.ts";

export type { ClusterPlaceholderSpec, RegistryCredentialSpec, RegistryCredentialStatus };

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
}) satisfies z.ZodType<ClusterPlaceholderSpec>;

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

export const parseClusterPlaceholderSpec = (spec: unknown): ParsedSpec<ClusterPlaceholderSpec> =>
  parseSpec(clusterPlaceholderSpecSchema, spec);
// RegistryCredential (secret-export.dev/v1alpha1, SPEC §9). Exactly one provider; every endpoint
// comes from the controller's flags and environment, so no field here names a host to send a
// signed request or a key to.
const secretName = z.string().min(1).describe("A Secret in the RegistryCredential's own namespace.");
const hosts = (what: string) =>
  z
    .array(z.string().min(1))
    .refine((list) => list.length > 0, NON_EMPTY)
    .meta({ "x-kubernetes-validations": [{ rule: "size(self) > 0", message: NON_EMPTY }] })
    .describe(what);

const basicAuthSchema = z
  .object({
    secretRef: z
      .object({
        name: secretName,
        usernameKey: z
          .string()
          .min(1)
          .optional()
          .describe('The key holding the username; default "username".'),
        passwordKey: z
          .string()
          .min(1)
          .optional()
          .describe('The key holding the password; default "password".'),
        field: z
          .string()
          .min(1)
          .optional()
          .describe("One key holding username:password, instead of usernameKey and passwordKey."),
      })
      .refine((ref) => ref.field === undefined || (!ref.usernameKey && !ref.passwordKey), {
        message: "field cannot be combined with usernameKey or passwordKey",
      })
      .meta({
        "x-kubernetes-validations": [
          {
            rule: "!has(self.field) || (!has(self.usernameKey) && !has(self.passwordKey))",
            message: "field cannot be combined with usernameKey or passwordKey",
          },
        ],
      }),
  })
  .describe("A username and password from a Secret; spec.registries says where they are for.");

const ecrSchema = z
  .object({
    region: z.string().min(1).describe("The AWS region of the registry, e.g. eu-west-1."),
    roleARN: z.string().min(1).optional().describe("A role to assume (sts:AssumeRole) before asking ECR."),
    secretRef: z
      .object({ name: secretName })
      .optional()
      .describe(
        "Static keys: accessKeyID and secretKey (IMPS's banzaicloud.io/aws-ecr-login-config Secrets as they are, roleArn included); absent: the controller's own AWS identity.",
      ),
  })
  .describe("An AWS ECR authorization token; the registry is the proxyEndpoint ECR returns.");

const gcpSchema = z
  .object({
    registries: hosts("Registry hosts to write, e.g. europe-docker.pkg.dev, gcr.io."),
    secretRef: z
      .object({
        name: secretName,
        key: z.string().min(1).optional().describe("The key holding the JSON key."),
      })
      .optional()
      .describe("A service-account JSON key; absent: the metadata server (GKE Workload Identity)."),
  })
  .describe("A Google access token for Artifact Registry or GCR, user oauth2accesstoken.");

const acrSchema = z
  .object({
    registry: z.string().min(1).describe("The registry host, e.g. myregistry.azurecr.io."),
    tenantID: z.string().min(1).describe("The Microsoft Entra tenant."),
    secretRef: z
      .object({ name: secretName })
      .optional()
      .describe(
        "A service principal: clientID and clientSecret; absent: Azure Workload Identity, then managed identity.",
      ),
  })
  .describe("An Azure Container Registry refresh token.");

const execSchema = z
  .object({
    image: z
      .string()
      .min(1)
      .describe(
        "An image on the registry, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app: the plugin whose matchImages match it is run.",
      ),
  })
  .describe(
    "A kubelet credential provider plugin from the controller's --credential-provider-config; never a binary or a path.",
  );

const PROVIDER_COUNT = "[has(self.basicAuth), has(self.ecr), has(self.gcp), has(self.acr), has(self.exec)]";
const ONE_PROVIDER = "exactly one of basicAuth, ecr, gcp, acr and exec must be set";
const REGISTRIES_NEEDED = "spec.registries is required with basicAuth";

export const registryCredentialSpecSchema = z
  .object({
    registries: hosts(
      "The registry hosts (auths keys) to write: required with basicAuth; with exec, default the image's host.",
    ).optional(),
    refresh: z
      .object({
        lifetimeFraction: z
          .number()
          .min(0.1)
          .max(0.9)
          .optional()
          .describe("Refresh after this fraction of the lifetime the provider reported; default 0.5."),
        marginSeconds: z
          .int()
          .min(0)
          .optional()
          .describe("Refresh at least this long before expiry; default 300."),
      })
      .optional(),
    basicAuth: basicAuthSchema.optional(),
    ecr: ecrSchema.optional(),
    gcp: gcpSchema.optional(),
    acr: acrSchema.optional(),
    exec: execSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    const set = [spec.basicAuth, spec.ecr, spec.gcp, spec.acr, spec.exec].filter((p) => p !== undefined);
    if (set.length !== 1) ctx.addIssue({ code: "custom", message: ONE_PROVIDER, path: [] });
    if (spec.basicAuth && !spec.registries)
      ctx.addIssue({ code: "custom", message: REGISTRIES_NEEDED, path: [] });
  })
  .meta({
    "x-kubernetes-validations": [
      { rule: `${PROVIDER_COUNT}.filter(p, p).size() == 1`, message: ONE_PROVIDER },
      { rule: "!has(self.basicAuth) || has(self.registries)", message: REGISTRIES_NEEDED },
    ],
  }) satisfies z.ZodType<RegistryCredentialSpec>;

export const registryCredentialStatusSchema = z.object({
  observedGeneration: z.int().min(0).optional(),
  conditions: z.array(conditionSchema).optional(),
  provider: z.string().optional().describe("The provider in use."),
  registries: z.array(z.string()).optional().describe("The auths keys the Secret holds."),
  identity: z
    .string()
    .optional()
    .describe("The non-secret identity used: role ARN, service account, client ID."),
  expiresAt: z.string().meta({ format: "date-time" }).optional().describe("When the credential expires."),
  lastRefreshTime: z.string().meta({ format: "date-time" }).optional(),
  nextRefreshTime: z.string().meta({ format: "date-time" }).optional(),
  consecutiveFailures: z.int().min(0).optional().describe("Failed refreshes since the last success."),
}) satisfies z.ZodType<RegistryCredentialStatus>;

export const parseRegistryCredentialSpec = (spec: unknown): ParsedSpec<RegistryCredentialSpec> =>
  parseSpec(registryCredentialSpecSchema, spec);
