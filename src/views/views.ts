// What the caches keep of each API object: only the fields decisions read, so memory follows the
// objects we care about and not their managedFields, data we never use, or typed-model copies.
import {
  type ParsedSpec,
  parseExportSpec,
  parseImportSpec,
  type SecretExportStatus,
  type SecretImportSpec,
  type SecretImportStatus,
} from "../api/schemas.ts";
import { ANNOTATION_WEIGHT } from "../constants.ts";
import { isPlaceholder } from "../core/candidates.ts";
import { compileExport } from "../core/destinations.ts";
import type { ExportView, NamespaceView, SecretExportSpec, SecretView, StringMap } from "../core/types.ts";
import type { ExistingSecret, ImportFacts } from "../core/imports.ts";
import { parseWeight } from "../core/weight.ts";
import type { KubeObject } from "../runtime/kube-http.ts";

/** The metadata fields the views read, as the API returns them. */
interface Metadata {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: { uid?: string; controller?: boolean }[];
  managedFields?: unknown;
}

export const metadataOf = (o: KubeObject) => (o.metadata ?? {}) as Metadata;

export function namespaceView(o: KubeObject): NamespaceView {
  const { managedFields, ...metadata } = metadataOf(o);
  const status = o.status as { phase?: string } | undefined;
  return {
    name: metadata.name,
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    terminating: metadata.deletionTimestamp !== undefined || status?.phase === "Terminating",
    object: { metadata, spec: o.spec ?? {}, status: o.status ?? {} },
  };
}

/**
 * A SecretExport as the controller's cache keeps it: what decisions read (ExportView) plus what its
 * status write and change detection need.
 */
export interface ExportEntry extends ExportView {
  uid: string;
  resourceVersion: string;
  generation: number;
  spec: SecretExportSpec;
  status: SecretExportStatus;
  /** Changes exactly when the namespaces it reaches or its weight may have changed. */
  placement: string;
}

export function exportEntry(o: KubeObject): ExportEntry | undefined {
  const metadata = metadataOf(o);
  if (metadata.deletionTimestamp !== undefined || metadata.namespace === undefined) return undefined;
  const parsed: ParsedSpec<SecretExportSpec> = parseExportSpec(o.spec ?? {});
  const spec = parsed.ok ? parsed.spec : {};
  const weight = parseWeight(metadata.annotations?.[ANNOTATION_WEIGHT]);
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid ?? "",
    resourceVersion: metadata.resourceVersion ?? "",
    generation: metadata.generation ?? 0,
    weight,
    spec,
    status: (o.status ?? {}) as SecretExportStatus,
    destinations: parsed.ok ? compileExport(spec) : parsed,
    placement: JSON.stringify([o.spec ?? {}, weight]),
  };
}

/** Secrets of type kubernetes.io/dockerconfigjson: placeholders and registry-credential sources. */
export function secretView(o: KubeObject): SecretView {
  const metadata = metadataOf(o);
  return {
    namespace: metadata.namespace ?? "",
    name: metadata.name,
    type: typeof o.type === "string" ? o.type : "",
    data: (o.data ?? {}) as StringMap,
    resourceVersion: metadata.resourceVersion ?? "",
    annotations: metadata.annotations ?? {},
  };
}

export { isPlaceholder };

export interface SecretMetadata {
  uid: string;
  resourceVersion: string;
  placeholder: boolean;
  controllerUid: string | undefined;
}

/**
 * From the metadata-only watch of every Secret, only those that matter are kept: placeholders,
 * exported sources, and Secrets where a SecretImport wants its copy.
 */
export function secretMetadataView(
  o: KubeObject,
  wanted: (key: string) => boolean,
): SecretMetadata | undefined {
  const metadata = metadataOf(o);
  const placeholder = isPlaceholder(metadata.annotations);
  if (!placeholder && !wanted(`${metadata.namespace}/${metadata.name}`)) return undefined;
  return {
    uid: metadata.uid ?? "",
    resourceVersion: metadata.resourceVersion ?? "",
    placeholder,
    controllerUid: controllerUidOf(metadata),
  };
}

const controllerUidOf = (metadata: Metadata) =>
  metadata.ownerReferences?.find((ref) => ref.controller === true)?.uid;

export interface ImportEntry {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  labels: StringMap;
  annotations: StringMap;
  spec: ParsedSpec<SecretImportSpec>;
  status: SecretImportStatus;
}

export function importEntry(o: KubeObject): ImportEntry | undefined {
  const metadata = metadataOf(o);
  if (metadata.deletionTimestamp !== undefined || metadata.namespace === undefined) return undefined;
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid ?? "",
    generation: metadata.generation ?? 0,
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    spec: parseImportSpec(o.spec ?? {}),
    status: (o.status ?? {}) as SecretImportStatus,
  };
}

/** What decideImport is given for an import: one builder, so `explain` decides as the controller does. */
export function importFacts(
  entry: ImportEntry,
  source: ImportFacts["source"],
  existing: ExistingSecret | undefined,
): ImportFacts {
  const { namespace, name, uid, labels, annotations, spec } = entry;
  return {
    namespace,
    name,
    uid,
    labels,
    annotations,
    spec: spec.ok ? { ok: true, fromNamespace: spec.spec.fromNamespace } : spec,
    source,
    existing,
  };
}

/** A copy made by a SecretImport (label-selected watch): all the import decision compares. */
export function copyView(o: KubeObject): ExistingSecret {
  const metadata = metadataOf(o);
  return {
    uid: metadata.uid ?? "",
    resourceVersion: metadata.resourceVersion ?? "",
    type: typeof o.type === "string" ? o.type : "",
    data: (o.data ?? {}) as StringMap,
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    controllerUid: controllerUidOf(metadata),
  };
}
