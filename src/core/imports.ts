// What a SecretImport should lead to (SPEC §4): whether it is satisfied, the copy it keeps, and the
// write that makes an existing copy equal to it. Never a Secret the import does not control.
import {
  API_VERSION,
  LABEL_IMPORTED,
  MESSAGE_IMPORT_INTO_OWN_NAMESPACE,
  MESSAGE_NO_MATCHING_EXPORT,
  REASON_IMPORTED,
  REASON_INVALID_SPEC,
  REASON_NO_MATCHING_EXPORT,
  REASON_SECRET_EXISTS,
  REASON_UNSUPPORTED_TYPE,
  SECRET_IMPORT_KIND,
  SECRET_TYPE_SERVICE_ACCOUNT_TOKEN,
} from "../constants.ts";
import type { Outcome } from "./conditions.ts";
import type { FieldProblem, StringMap } from "./types.ts";

export interface ImportFacts {
  namespace: string;
  name: string;
  uid: string;
  labels: StringMap;
  annotations: StringMap;
  /** The parsed spec, or what is wrong with it. */
  spec: { ok: true; fromNamespace: string } | { ok: false; problems: FieldProblem[] };
  /** The export fromNamespace/name reaches this namespace and its source exists. */
  source: { type: string; data: StringMap } | undefined;
  /** The Secret namespace/name as it is now, if any. */
  existing: ExistingSecret | undefined;
}

export interface ExistingSecret {
  uid: string;
  resourceVersion: string;
  type: string;
  data: StringMap;
  labels: StringMap;
  annotations: StringMap;
  /** UID of the controller ownerReference, if any. */
  controllerUid: string | undefined;
}

export interface Copy {
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller: true;
      blockOwnerDeletion: true;
    }[];
  };
  type: string;
  data: Record<string, string>;
}

/** What to do with the Secret namespace/name. */
export type Action =
  | { kind: "none" }
  | { kind: "create"; copy: Copy }
  | { kind: "patch"; patch: CopyPatch }
  /** The type of a Secret cannot change: the copy is replaced. */
  | { kind: "replace"; copy: Copy; uid: string; resourceVersion: string }
  | { kind: "delete"; uid: string; resourceVersion: string };

export interface ImportDecision {
  outcome: Outcome;
  action: Action;
}

export function decideImport(facts: ImportFacts): ImportDecision {
  const ours = facts.existing !== undefined && facts.existing.controllerUid === facts.uid;
  const removeOurs: Action =
    ours && facts.existing
      ? { kind: "delete", uid: facts.existing.uid, resourceVersion: facts.existing.resourceVersion }
      : { kind: "none" };
  if (!facts.spec.ok) {
    const message = [
      "Validation errors:",
      ...facts.spec.problems.map((p) => `- ${p.field}: ${p.message}`),
    ].join("\n");
    return { outcome: failed(REASON_INVALID_SPEC, message), action: removeOurs };
  }
  if (facts.spec.fromNamespace === facts.namespace) {
    return { outcome: failed(REASON_INVALID_SPEC, MESSAGE_IMPORT_INTO_OWN_NAMESPACE), action: removeOurs };
  }
  if (facts.source === undefined) {
    return { outcome: failed(REASON_NO_MATCHING_EXPORT, MESSAGE_NO_MATCHING_EXPORT), action: removeOurs };
  }
  if (facts.source.type === SECRET_TYPE_SERVICE_ACCOUNT_TOKEN) {
    const message = `Secrets of type ${SECRET_TYPE_SERVICE_ACCOUNT_TOKEN} are not imported: the token controller would wipe the copy. Export a Secret of another type`;
    return { outcome: failed(REASON_UNSUPPORTED_TYPE, message), action: removeOurs };
  }
  const copy = desiredCopy(facts, facts.source);
  const from = `${facts.spec.fromNamespace}/${facts.name}`;
  if (facts.existing === undefined) return { outcome: imported(from), action: { kind: "create", copy } };
  if (!ours) {
    const message = `A Secret ${facts.namespace}/${facts.name} already exists and is not this SecretImport's copy; it is left alone. Delete or rename it, or import under another name`;
    return { outcome: failed(REASON_SECRET_EXISTS, message), action: { kind: "none" } };
  }
  if (facts.existing.type !== copy.type) {
    return {
      outcome: imported(from),
      action: {
        kind: "replace",
        copy,
        uid: facts.existing.uid,
        resourceVersion: facts.existing.resourceVersion,
      },
    };
  }
  const patch = copyPatch(facts.existing, copy);
  return { outcome: imported(from), action: patch ? { kind: "patch", patch } : { kind: "none" } };
}

const failed = (reason: string, message: string): Outcome => ({ ready: false, reason, message });
const imported = (from: string): Outcome => ({
  ready: true,
  reason: REASON_IMPORTED,
  message: `Imported from ${from}`,
});

function desiredCopy(facts: ImportFacts, source: { type: string; data: StringMap }): Copy {
  return {
    metadata: {
      name: facts.name,
      namespace: facts.namespace,
      labels: { ...facts.labels, [LABEL_IMPORTED]: "true" },
      annotations: { ...facts.annotations },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: SECRET_IMPORT_KIND,
          name: facts.name,
          uid: facts.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    type: source.type,
    data: { ...source.data },
  };
}

export interface CopyPatch {
  metadata: {
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string | null>;
}

/**
 * A JSON merge patch that makes the copy's data equal to the source's (keys it lacks are removed)
 * and sets the import's labels and annotations, leaving other metadata alone; undefined when the
 * copy is already right.
 */
export function copyPatch(existing: ExistingSecret, copy: Copy): CopyPatch | undefined {
  const data = mapPatch(existing.data, copy.data, true);
  const labels = mapPatch(existing.labels, copy.metadata.labels, false);
  const annotations = mapPatch(existing.annotations, copy.metadata.annotations, false);
  if (!data && !labels && !annotations) return undefined;
  return {
    metadata: {
      resourceVersion: existing.resourceVersion,
      ...(labels ? { labels: labels as Record<string, string> } : {}),
      ...(annotations ? { annotations: annotations as Record<string, string> } : {}),
    },
    ...(data ? { data } : {}),
  };
}

function mapPatch(
  current: StringMap,
  desired: StringMap,
  exact: boolean,
): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(desired)) if (current[key] !== value) patch[key] = value;
  if (exact) for (const key of Object.keys(current)) if (!Object.hasOwn(desired, key)) patch[key] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
