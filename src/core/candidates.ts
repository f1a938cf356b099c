// The candidates for a placeholder in a namespace (SPEC §3.2), built the same way for the controller
// (from its caches) and for `explain` (from one read of the cluster).
import { ANNOTATION_IMAGE_PULL_SECRET, DOCKER_CONFIG_JSON_KEY } from "../constants.ts";
import { reach } from "./destinations.ts";
import { type ParsedDockerConfig, parseDockerConfig } from "./dockerconfig.ts";
import { keyOf } from "./keys.ts";
import type { Candidate } from "./placeholder.ts";
import type { ExportView, NamespaceView, StringMap } from "./types.ts";

/** A Secret the controller fills: never a source, so nothing it merged is offered onward. */
export const isPlaceholder = (annotations: StringMap | undefined): boolean =>
  annotations !== undefined && Object.hasOwn(annotations, ANNOTATION_IMAGE_PULL_SECRET);

/**
 * The exports reaching a namespace whose source is a dockerconfigjson Secret that is not itself a
 * placeholder (a placeholder as source would re-export, or pin, what was offered to it). `dockerSource` returns
 * the source "namespace/name" only when it exists with type kubernetes.io/dockerconfigjson; `parse`
 * reads its `.dockerconfigjson` (the controller memoises it per resourceVersion).
 */
export function placeholderCandidates<S extends { annotations: StringMap }>(
  exports: Iterable<ExportView>,
  dockerSource: (key: string) => S | undefined,
  namespace: NamespaceView,
  parse: (source: S) => ParsedDockerConfig,
): Candidate[] {
  const candidates: Candidate[] = [];
  for (const entry of exports) {
    if (!entry.destinations.ok) continue;
    const verdict = reach(entry.destinations.compiled, namespace);
    const exportKey = keyOf(entry);
    const source = verdict.reached ? dockerSource(exportKey) : undefined;
    if (!verdict.reached || source === undefined || isPlaceholder(source.annotations)) continue;
    candidates.push({
      exportKey,
      weight: entry.weight,
      sameNamespace: entry.namespace === namespace.name,
      exact: verdict.rule === "exactName",
      source: parse(source),
    });
  }
  return candidates;
}

/** The `.dockerconfigjson` of a Secret's data (base64 values, as the API returns them), parsed. */
export function parseSecretDockerConfig(data: StringMap): ParsedDockerConfig {
  const encoded = data[DOCKER_CONFIG_JSON_KEY] ?? "";
  return parseDockerConfig(Buffer.from(encoded, "base64").toString("utf8"));
}
