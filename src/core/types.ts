// The plain data every decision function works on. The controller builds these from its informer
// caches; the decision functions never see a client, a cache or a clock.

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

export interface ExportView {
  /** Also the namespace and name of the source Secret. */
  namespace: string;
  name: string;
  generation: number;
  /** From the weight annotation, see parseWeight. */
  weight: number;
  spec: SecretExportSpec;
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

/** A problem with user input, naming the field and saying what to do. */
export interface FieldProblem {
  field: string;
  message: string;
}

export const keyOf = (o: { namespace: string; name: string }): string => `${o.namespace}/${o.name}`;
