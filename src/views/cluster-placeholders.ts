// What the caches keep for ClusterPlaceholders: the parsed and compiled spec, the placeholders one
// created (metadata only), and of each ServiceAccount only its imagePullSecrets and our record.
import type { ClusterPlaceholderStatus } from "../core/types.ts";
import { type ParsedSpec, parseClusterPlaceholderSpec, type ClusterPlaceholderSpec } from "../api/schemas.ts";
import { ANNOTATION_ADDED_PULL_SECRETS, LABEL_CLUSTER_PLACEHOLDER } from "../constants.ts";
import {
  compileClusterPlaceholder,
  type CompiledResult,
  type SecretAtName,
} from "../core/cluster-placeholder.ts";
import type { ServiceAccountView } from "../core/service-account.ts";
import type { KubeObject } from "../runtime/kube-http.ts";
import { isPlaceholder, metadataOf } from "./views.ts";

export interface ClusterPlaceholderEntry {
  name: string;
  uid: string;
  generation: number;
  status: ClusterPlaceholderStatus;
  spec: ParsedSpec<ClusterPlaceholderSpec>;
  compiled: CompiledResult;
  /** Changes exactly when where it keeps placeholders may have changed. */
  placement: string;
}

/** A ClusterPlaceholder being deleted is treated as gone: what it made is withdrawn. */
export function clusterPlaceholderEntry(o: KubeObject): ClusterPlaceholderEntry | undefined {
  const metadata = metadataOf(o);
  if (metadata.deletionTimestamp !== undefined) return undefined;
  const spec = parseClusterPlaceholderSpec(o.spec ?? {});
  return {
    name: metadata.name,
    uid: metadata.uid ?? "",
    generation: metadata.generation ?? 0,
    status: (o.status ?? {}) as ClusterPlaceholderStatus,
    spec,
    compiled: spec.ok ? compileClusterPlaceholder(metadata.name, spec.spec) : spec,
    placement: JSON.stringify(o.spec ?? {}),
  };
}

export interface CreatedSecret extends SecretAtName {
  namespace: string;
}

/** A Secret carrying the ClusterPlaceholder label (label-selected, metadata-only watch). */
export function createdSecretView(o: KubeObject): CreatedSecret {
  const metadata = metadataOf(o);
  return {
    namespace: metadata.namespace ?? "",
    name: metadata.name,
    uid: metadata.uid ?? "",
    resourceVersion: metadata.resourceVersion ?? "",
    createdBy: metadata.labels?.[LABEL_CLUSTER_PLACEHOLDER],
    placeholder: isPlaceholder(metadata.annotations),
  };
}

export function serviceAccountView(o: KubeObject): ServiceAccountView {
  const metadata = metadataOf(o);
  const entries = Array.isArray(o.imagePullSecrets) ? (o.imagePullSecrets as { name?: unknown }[]) : [];
  return {
    namespace: metadata.namespace ?? "",
    name: metadata.name,
    resourceVersion: metadata.resourceVersion ?? "",
    pullSecrets: entries.flatMap((entry) => (typeof entry.name === "string" ? [entry.name] : [])),
    added: metadata.annotations?.[ANNOTATION_ADDED_PULL_SECRETS],
  };
}
