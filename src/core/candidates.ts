// The candidates for a placeholder in a namespace (SPEC §3.2), built the same way for the controller
// (from its caches) and for `explain` (from one read of the cluster).
import { DOCKER_CONFIG_JSON_KEY } from "../constants.ts";
import { reach } from "./destinations.ts";
import { type ParsedDockerConfig, parseDockerConfig } from "./dockerconfig.ts";
import type { Candidate } from "./placeholder.ts";
import type { ExportView, NamespaceView, StringMap } from "./types.ts";

/**
 * The exports reaching a namespace whose source is a dockerconfigjson Secret. `dockerSource` returns
 * the source "namespace/name" only when it exists with type kubernetes.io/dockerconfigjson; `parse`
 * reads its `.dockerconfigjson` (the controller memoises it per resourceVersion).
 */
export function placeholderCandidates<S>(
  exports: Iterable<ExportView>,
  dockerSource: (key: string) => S | undefined,
  namespace: NamespaceView,
  parse: (source: S) => ParsedDockerConfig,
): Candidate[] {
  const candidates: Candidate[] = [];
  for (const entry of exports) {
    if (!entry.destinations.ok) continue;
    const verdict = reach(entry.destinations.compiled, namespace);
    const exportKey = `${entry.namespace}/${entry.name}`;
    const source = verdict.reached ? dockerSource(exportKey) : undefined;
    if (!verdict.reached || source === undefined) continue;
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
