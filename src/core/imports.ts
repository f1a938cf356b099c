// What a SecretImport should lead to (SPEC §4): whether it is satisfied, the copy it keeps, and the
// write that makes an existing copy equal to it. Never a Secret the import does not control.
import {
  API_VERSION,
  LABEL_IMPORTED,
  MESSAGE_IMPORT_INTO_OWN_NAMESPACE,
  MESSAGE_NO_MATCHING_EXPORT,
  MESSAGE_SOURCE_IS_PLACEHOLDER,
  REASON_IMPORTED,
  REASON_INVALID_SPEC,
  REASON_NO_MATCHING_EXPORT,
  REASON_SECRET_EXISTS,
  REASON_SOURCE_IS_PLACEHOLDER,
  REASON_UNSUPPORTED_TYPE,
  SECRET_IMPORT_KIND,
  SECRET_TYPE_SERVICE_ACCOUNT_TOKEN,
} from "../constants.ts";
import { isPlaceholder } from "./candidates.ts";
import { type Readiness, validationMessage } from "./conditions.ts";
import { type CompileResult, reach } from "./destinations.ts";
import type { FieldProblem, NamespaceView, StringMap } from "./types.ts";

export interface ImportFacts {
  namespace: string;
  name: string;
  uid: string;
  labels: StringMap;
  annotations: StringMap;
  /** The parsed spec, or what is wrong with it. */
  spec: { ok: true; fromNamespace: string } | { ok: false; problems: FieldProblem[] };
  /** The source the export fromNamespace/name offers this namespace, or why it offers none. */
  source: ImportSource;
  /** The Secret namespace/name as it is now, if any. */
  existing: ExistingSecret | undefined;
}

export type ImportSource =
  { kind: "offered"; type: string; data: StringMap; annotations: StringMap } | NotOffered;

/** Why the export an import names offers it nothing (SPEC §4.1). */
export type NotOffered =
  | { kind: "namespaceNotFound" }
  /** No SecretExport fromNamespace/name (an invalid import spec names none). */
  | { kind: "noExport" }
  | { kind: "invalidExport"; problems: readonly FieldProblem[] }
  /** `why` says which rules fail to match. */
  | { kind: "notReached"; why: string }
  /** The export reaches the namespace, but its source Secret does not exist. */
  | { kind: "noSource" };

/**
 * What stops the export an import names from offering its source to the import's namespace, short
 * of whether the source exists; undefined when nothing does, and the source is worth reading.
 */
export function whyNotOffered(
  namespace: NamespaceView | undefined,
  exported: { destinations: CompileResult } | undefined,
): NotOffered | undefined {
  if (namespace === undefined) return { kind: "namespaceNotFound" };
  if (exported === undefined) return { kind: "noExport" };
  if (!exported.destinations.ok) return { kind: "invalidExport", problems: exported.destinations.problems };
  const verdict = reach(exported.destinations.compiled, namespace);
  return verdict.reached ? undefined : { kind: "notReached", why: verdict.why };
}

/** The source of an export that offers it, as found. */
export const offeredSecret = (
  secret: { type: string; data: StringMap; annotations: StringMap } | undefined,
): ImportSource =>
  secret === undefined
    ? { kind: "noSource" }
    : { kind: "offered", type: secret.type, data: secret.data, annotations: secret.annotations };

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

/** Why an import is satisfied or not: each not-offered case apart, all of them NoMatchingExport. */
export type ImportWhy =
  | { kind: "imported" }
  | { kind: "invalidSpec" }
  | { kind: "ownNamespace" }
  | NotOffered
  | { kind: "sourceIsPlaceholder" }
  | { kind: "unsupportedType" }
  | { kind: "secretExists" };

export interface ImportDecision {
  outcome: Readiness;
  action: Action;
  why: ImportWhy;
}

export function decideImport(facts: ImportFacts): ImportDecision {
  const ours = facts.existing !== undefined && facts.existing.controllerUid === facts.uid;
  const removeOurs: Action =
    ours && facts.existing
      ? { kind: "delete", uid: facts.existing.uid, resourceVersion: facts.existing.resourceVersion }
      : { kind: "none" };
  if (!facts.spec.ok) {
    const outcome = failed(REASON_INVALID_SPEC, validationMessage(facts.spec.problems));
    return { outcome, action: removeOurs, why: { kind: "invalidSpec" } };
  }
  if (facts.spec.fromNamespace === facts.namespace) {
    const outcome = failed(REASON_INVALID_SPEC, MESSAGE_IMPORT_INTO_OWN_NAMESPACE);
    return { outcome, action: removeOurs, why: { kind: "ownNamespace" } };
  }
  const { source } = facts;
  if (source.kind !== "offered") {
    const outcome = failed(REASON_NO_MATCHING_EXPORT, MESSAGE_NO_MATCHING_EXPORT);
    return { outcome, action: removeOurs, why: source };
  }
  if (isPlaceholder(source.annotations)) {
    const outcome = failed(REASON_SOURCE_IS_PLACEHOLDER, MESSAGE_SOURCE_IS_PLACEHOLDER);
    return { outcome, action: removeOurs, why: { kind: "sourceIsPlaceholder" } };
  }
  if (source.type === SECRET_TYPE_SERVICE_ACCOUNT_TOKEN) {
    const message = `Secrets of type ${SECRET_TYPE_SERVICE_ACCOUNT_TOKEN} are not imported: the token controller would wipe the copy. Export a Secret of another type`;
    const outcome = failed(REASON_UNSUPPORTED_TYPE, message);
    return { outcome, action: removeOurs, why: { kind: "unsupportedType" } };
  }
  const copy = desiredCopy(facts, source);
  const from = `${facts.spec.fromNamespace}/${facts.name}`;
  const done = (action: Action): ImportDecision => ({
    outcome: imported(from),
    action,
    why: { kind: "imported" },
  });
  if (facts.existing === undefined) return done({ kind: "create", copy });
  if (!ours) {
    const message = `A Secret ${facts.namespace}/${facts.name} already exists and is not this SecretImport's copy; it is left alone. Delete or rename it, or import under another name`;
    const outcome = failed(REASON_SECRET_EXISTS, message);
    return { outcome, action: { kind: "none" }, why: { kind: "secretExists" } };
  }
  if (facts.existing.type !== copy.type) {
    const { uid, resourceVersion } = facts.existing;
    return done({ kind: "replace", copy, uid, resourceVersion });
  }
  const patch = copyPatch(facts.existing, copy);
  return done(patch ? { kind: "patch", patch } : { kind: "none" });
}

const failed = (reason: string, message: string): Readiness => ({ ready: false, reason, message });
const imported = (from: string): Readiness => ({
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
