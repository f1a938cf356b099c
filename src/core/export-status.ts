// The status of a SecretExport (SPEC §1, §3.8): from what is known about its spec, its source and
// the placeholders it feeds, the Ready reason and message, carvel's condition and our extra fields.
import {
  ANNOTATION_WEIGHT,
  DOCKER_CONFIG_JSON_KEY,
  MESSAGE_MISSING_EXPORTED_SECRET,
  REASON_CONFLICT,
  REASON_EXPORTED,
  REASON_INVALID_DOCKER_CONFIG,
  REASON_INVALID_SPEC,
  REASON_SECRET_NOT_FOUND,
  MESSAGE_SOURCE_IS_PLACEHOLDER,
  REASON_SOURCE_IS_PLACEHOLDER,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../constants.ts";
import { type Readiness, validationMessage } from "./conditions.ts";
import type { ParsedDockerConfig } from "./dockerconfig.ts";
import type { FieldProblem } from "./types.ts";

export interface ExportFacts {
  /** What is wrong with the spec, if anything. */
  problems: FieldProblem[] | undefined;
  /** The source Secret, undefined when it does not exist; `placeholder` when it is one. */
  source:
    { resourceVersion: string; type: string; placeholder: boolean; parsed?: ParsedDockerConfig } | undefined;
  /** Registries of this export rejected as conflicts, by the namespace of the placeholder. */
  conflicts: { registry: string; namespace: string }[];
  namespacesReached: number;
  /** The names of the namespaces it reaches, for messages that name the namespaces affected. */
  reachedNamespaces?: readonly string[];
}

export interface ExportStatusFields {
  outcome: Readiness;
  observedSecretResourceVersion?: string;
  namespacesReached: number;
}

/** How many namespaces a message lists before it says "and N more". */
const LISTED_NAMESPACES = 5;

export function exportStatusFields(facts: ExportFacts): ExportStatusFields {
  const { problems, source, conflicts, namespacesReached, reachedNamespaces = [] } = facts;
  if (problems !== undefined) {
    return { outcome: failed(REASON_INVALID_SPEC, validationMessage(problems)), namespacesReached: 0 };
  }
  if (source === undefined) {
    return { outcome: failed(REASON_SECRET_NOT_FOUND, MESSAGE_MISSING_EXPORTED_SECRET), namespacesReached };
  }
  if (source.placeholder) {
    const outcome = failed(REASON_SOURCE_IS_PLACEHOLDER, MESSAGE_SOURCE_IS_PLACEHOLDER);
    return { outcome, observedSecretResourceVersion: source.resourceVersion, namespacesReached: 0 };
  }
  const observed = { observedSecretResourceVersion: source.resourceVersion, namespacesReached };
  const parsed = source.type === SECRET_TYPE_DOCKER_CONFIG_JSON ? source.parsed : undefined;
  if (parsed?.ok === false) {
    const where = reachedNamespaces.length > 0 ? ` in namespaces ${listed(reachedNamespaces)}` : "";
    const message = `The Secret's ${DOCKER_CONFIG_JSON_KEY} is unreadable: ${parsed.message}; placeholders${where} keep the registries it provided until it is fixed`;
    return { outcome: failed(REASON_INVALID_DOCKER_CONFIG, message), ...observed };
  }
  if (conflicts.length > 0)
    return { outcome: failed(REASON_CONFLICT, conflictMessage(conflicts)), ...observed };
  const skipped = parsed?.ok && parsed.skipped.length > 0 ? parsed.skipped : [];
  const note = skipped.length > 0 ? `; entries without credentials skipped: ${skipped.join(", ")}` : "";
  const message = `Exported to ${namespacesReached} namespace${namespacesReached === 1 ? "" : "s"}${note}`;
  return { outcome: { ready: true, reason: REASON_EXPORTED, message }, ...observed };
}

const failed = (reason: string, message: string): Readiness => ({ ready: false, reason, message });

function conflictMessage(conflicts: ExportFacts["conflicts"]): string {
  const byRegistry = Map.groupBy(conflicts, (c) => c.registry);
  const parts = [...byRegistry.keys()].sort().map((registry) => {
    const namespaces = byRegistry.get(registry)?.map((c) => c.namespace) ?? [];
    return `registry ${JSON.stringify(registry)} in namespaces ${listed(namespaces)}`;
  });
  return `Conflicting credentials rejected for ${parts.join("; ")}: another export offers different credentials; set the ${ANNOTATION_WEIGHT} annotation on the export that should win`;
}

/** Namespaces sorted and de-duplicated, the first few named and the rest counted. */
function listed(names: readonly string[]): string {
  const namespaces = [...new Set(names)].sort();
  const more =
    namespaces.length > LISTED_NAMESPACES ? ` and ${namespaces.length - LISTED_NAMESPACES} more` : "";
  return `${namespaces.slice(0, LISTED_NAMESPACES).join(", ")}${more}`;
}
