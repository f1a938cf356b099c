// The plain data every decision function works on. The controller builds these from its informer
// caches; the decision functions never see a client, a cache or a clock.

import type { CompileResult } from "./destinations.ts";

export type StringMap = Readonly<Record<string, string>>;

export interface NamespaceView {
  name: string;
  labels: StringMap;
  annotations: StringMap;
  /** deletionTimestamp set or phase Terminating: never a destination. */
  terminating: boolean;
  /** The Namespace as JSON ({metadata, spec, status}), what dangerousToNamespacesSelector keys read. */
  object: unknown;
}

export interface SelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** metav1.LabelSelector */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface SecretExportSpec {
  toNamespace?: string;
  toNamespaces?: string[];
  dangerousToNamespacesSelector?: SelectorRequirement[];
  toNamespaceSelector?: LabelSelector;
}

/** What decisions read of a SecretExport (the controller's cache entry, ExportEntry, holds more). */
export interface ExportView {
  /** Also the namespace and name of the source Secret. */
  namespace: string;
  name: string;
  /** From the weight annotation, see parseWeight. */
  weight: number;
  /** The spec as compiled, or what is wrong with it. */
  destinations: CompileResult;
}

export interface SecretView {
  namespace: string;
  name: string;
  type: string;
  /** Base64 values, as the API returns them. */
  data: StringMap;
  resourceVersion: string;
  annotations: StringMap;
}

/** metav1.Condition, as the status of a SecretExport or SecretImport holds it (src/api/schemas.ts checks its schema against it). */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  /** RFC 3339. */
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The status fields SecretExport and SecretImport share; all optional, as in carvel's CRDs. */
export interface GenericStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  friendlyDescription?: string;
}

/** A matching namespace a ClusterPlaceholder could not serve, and why. */
export interface NamespaceNotServed {
  namespace: string;
  reason: string;
  message: string;
}

export interface ClusterPlaceholderStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  namespacesServed?: number;
  namespacesNotServed?: NamespaceNotServed[];
  namespacesNotServedCount?: number;
}

/** A problem with user input, naming the field and saying what to do. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** `spec.gcp`: Google Artifact Registry / GCR. */
export interface GcpSpec {
  /** Registry hosts to write, for example `europe-docker.pkg.dev`, `gcr.io`. */
  registries: string[];
  /** A Secret holding a service-account JSON key; absent: the metadata server (Workload Identity). */
  secretRef?: { name: string; key?: string };
}

/** `spec.acr`: Azure Container Registry. */
export interface AcrSpec {
  /** The registry host, for example `myregistry.azurecr.io`. */
  registry: string;
  tenantID: string;
  /** A Secret with `clientID` and `clientSecret`; absent: Workload Identity, then managed identity. */
  secretRef?: { name: string };
}

/** `spec.ecr`: AWS Elastic Container Registry. */
export interface EcrSpec {
  region: string;
  roleARN?: string;
  /** Static keys (IMPS's `banzaicloud.io/aws-ecr-login-config` Secrets as they are); absent: the controller's identity. */
  secretRef?: { name: string };
}

/** `spec` of a ClusterPlaceholder (secret-export.dev/v1alpha1). */
export interface ClusterPlaceholderSpec {
  secretName: string;
  namespaces: {
    names?: string[];
    selector?: LabelSelector;
    annotations?: Record<string, string>;
    withPods?: LabelSelector;
  };
  serviceAccounts?: string[];
}

/** `spec` of a RegistryCredential (secret-export.dev/v1alpha1): exactly one provider is set. */
export interface RegistryCredentialSpec {
  registries?: string[];
  refresh?: { lifetimeFraction?: number; marginSeconds?: number };
  basicAuth?: { secretRef: { name: string; usernameKey?: string; passwordKey?: string; field?: string } };
  ecr?: EcrSpec;
  gcp?: GcpSpec;
  acr?: AcrSpec;
  exec?: { image: string };
}

export interface RegistryCredentialStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  provider?: string;
  registries?: string[];
  identity?: string;
  expiresAt?: string;
  lastRefreshTime?: string;
  nextRefreshTime?: string;
  consecutiveFailures?: number;
}
