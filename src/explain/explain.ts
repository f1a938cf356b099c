// `explain`: why a namespace gets (or does not get) which credentials. Pure: it takes the plain data
// the controller decides with (the views of src/views/views.ts) and calls the very functions the
// controller decides with (reach, placeholderCandidates, planPlaceholder, whyNotOffered, decideImport)
// and formats the reasons they return, so what it reports is what the controller does. It never
// returns a credential: only registry keys, export names and messages that name fields, never values.
import { isDeepStrictEqual } from "node:util";
import {
  ANNOTATION_CREDENTIAL_EXPIRES_AT,
  ANNOTATION_CREDENTIAL_REFRESHED_AT,
  ANNOTATION_EXCLUDED_FROM_WILDCARD,
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_STATUS,
  ANNOTATION_WEIGHT,
  MESSAGE_TOO_LARGE,
  MESSAGE_WRONG_PLACEHOLDER_TYPE,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../constants.ts";
import { parseSecretDockerConfig, placeholderCandidates } from "../core/candidates.ts";
import { reach, type ReachRule } from "../core/destinations.ts";
import { keyOf, sortedUnique, splitKey } from "../core/keys.ts";
import { compareBytewise } from "../core/dockerconfig.ts";
import {
  type Action,
  decideImport,
  type ExistingSecret,
  type ImportWhy,
  offeredSecret,
  whyNotOffered,
} from "../core/imports.ts";
import {
  type Candidate,
  compareCandidates,
  type Conflict,
  type Offer,
  type RegistryChoice,
  WRONG_TYPE_STATUS,
} from "../core/placeholder.ts";
import { type PlaceholderPatch, placeholderPatch } from "../core/placeholder-patch.ts";
import { planPlaceholder } from "../core/placeholder-plan.ts";
import type { ExportView, FieldProblem, NamespaceView, SecretView } from "../core/types.ts";
import { type ImportEntry, importFacts, isPlaceholder } from "../views/views.ts";

// ---------------------------------------------------------------------------------------------
// Input: one read of the cluster, as views.

export interface ExplainInput {
  /** The namespace asked about. */
  namespace: string;
  /** Its view (namespaceView), undefined when it does not exist. */
  namespaceView: NamespaceView | undefined;
  /** `--secret NAME`: only the placeholder and the SecretImport of that name. */
  secret?: string | undefined;
  /** Every SecretExport in the cluster (exportEntry views; those being deleted are left out). */
  exports: readonly ExportView[];
  /**
   * Secrets by "namespace/name" (secretView): every Secret of type kubernetes.io/dockerconfigjson
   * and at least the keys sourcesToRead names. A key that is absent is a Secret that does not exist.
   */
  secrets: ReadonlyMap<string, SecretView>;
  /** Secrets in the namespace; those annotated as placeholders are explained, any type. */
  placeholders: readonly SecretView[];
  /** The SecretImports in the namespace (importEntry views). */
  imports: readonly ImportEntry[];
  /** The Secrets in the namespace at the names of its SecretImports (copyView), by name. */
  importTargets: ReadonlyMap<string, ExistingSecret>;
}

/**
 * The Secrets, beyond those of type kubernetes.io/dockerconfigjson, that the explanation reads: the
 * sources of the exports reaching the namespace and of its SecretImports.
 */
export function sourcesToRead(
  namespace: NamespaceView | undefined,
  exports: readonly ExportView[],
  imports: readonly ImportEntry[],
): string[] {
  const reaching = exports.filter(
    (e) => namespace !== undefined && e.destinations.ok && reach(e.destinations.compiled, namespace).reached,
  );
  const keys = [
    ...reaching.map(keyOf),
    ...imports.flatMap((i) => (i.spec.ok ? [`${i.spec.spec.fromNamespace}/${i.name}`] : [])),
  ];
  return sortedUnique(keys);
}

// ---------------------------------------------------------------------------------------------
// Output: `explain -o json` prints an Explanation. Stable within schemaVersion 1: fields are only
// ever added, never renamed, removed or given another meaning. Every list is sorted as documented.

export interface Explanation {
  schemaVersion: 1;
  namespace: NamespaceExplanation;
  /** The `--secret` filter, or null. */
  secret: string | null;
  /** Every SecretExport in the cluster, by "namespace/name" (byte order). */
  exports: ExportExplanation[];
  /** The placeholders in the namespace (or the one `--secret` names), by name. */
  placeholders: PlaceholderExplanation[];
  /** The SecretImports in the namespace (or the one `--secret` names), by name. */
  imports: ImportExplanation[];
  /** Remarks on the question itself (namespace missing, `--secret` naming nothing explainable). */
  notes: string[];
}

export interface NamespaceExplanation {
  name: string;
  exists: boolean;
  /** Being deleted: no export reaches it and its placeholders are left alone. */
  terminating: boolean;
  /** Annotated secretgen.carvel.dev/excluded-from-wildcard-matching: globs do not reach it. */
  excludedFromWildcardMatching: boolean;
  /** Its labels, by key, what toNamespaceSelector matches. */
  labels: Record<string, string>;
}

/** Why an export does not reach the namespace. */
export type NotReachedReason =
  "invalidSpec" | "namespaceNotFound" | "namespaceTerminating" | "excludedFromWildcardMatching" | "noMatch";

export type ExportExplanation = ReachingExport | NotReachingExport;

interface ExportBase {
  /** "namespace/name" of the SecretExport and of its source Secret. */
  export: string;
  /** From the secretgen.carvel.dev/weight annotation (0 when absent or unparsable). */
  weight: number;
}

export interface ReachingExport extends ExportBase {
  reached: true;
  rule: ReachRule;
  /** The entry or selector that matches, such as `listed in spec.toNamespace`. */
  detail: string;
  source: SourceExplanation;
  /** Its registries are offered to the namespace's placeholders: its source is a dockerconfigjson Secret. */
  placeholderCandidate: boolean;
}

export interface NotReachingExport extends ExportBase {
  reached: false;
  reason: NotReachedReason;
  /** Why not, in words. */
  detail: string;
  /** What is wrong with the spec (reason invalidSpec), in field order; otherwise empty. */
  problems: FieldProblem[];
}

/** The source Secret of an export that reaches the namespace. */
export interface SourceExplanation {
  exists: boolean;
  /** Its type, null when it does not exist. */
  type: string | null;
  /** Registry keys it offers (entries with a credential), by key; dockerconfigjson only. */
  registries: string[];
  /** Registry keys of entries without any credential, skipped (SPEC §3.6), by key. */
  skipped: string[];
  /** Why its `.dockerconfigjson` cannot be read, or null. */
  unreadable: string | null;
  /**
   * Set when a RegistryCredential of the same name keeps it filled (it carries the annotations the
   * controller writes there): when its credential expires, null when it does not.
   */
  registryCredential: { expiresAt: string | null } | null;
}

export interface PlaceholderExplanation {
  name: string;
  type: string;
  /**
   * What the controller does with it: `inSync` (writes nothing), `willBeRewritten` (see `changes`),
   * `notReconciled` (its namespace is being deleted).
   */
  sync: "inSync" | "willBeRewritten" | "notReconciled";
  /** What a reconcile writes: `data` (its `.dockerconfigjson`) and/or `status` (the status annotation). */
  changes: ("data" | "status")[];
  /** What stops it from being filled as usual (wrong type, too large, namespace being deleted), or null. */
  problem: string | null;
  /** The exports offering it registries, least to most preferred (carvel's order, SPEC §3.2). */
  candidates: CandidateExplanation[];
  /** The registries it should hold, by key as written. */
  registries: RegistryExplanation[];
  /** Registries with conflicting credentials, by normalised registry. */
  conflicts: ConflictExplanation[];
  /** Candidates whose `.dockerconfigjson` cannot be read, by export. */
  unreadableSources: { export: string; message: string }[];
  /** Entries without credentials that candidates offer, skipped, by export. */
  skipped: { export: string; registries: string[] }[];
  /** The condition its status annotation holds once reconciled (`ReconcileSucceeded` / `ReconcileFailed`). */
  condition: { type: string; message: string | null };
}

export interface CandidateExplanation {
  export: string;
  weight: number;
  /** The source is in the placeholder's namespace (preferred over other namespaces). */
  sameNamespace: boolean;
  /** Reached by exact name (preferred over globs and selectors). */
  exact: boolean;
}

/** How the export providing a registry was chosen. */
export type { RegistryChoice };

export interface RegistryExplanation {
  /** The registry key as written in the placeholder. */
  registry: string;
  /** Its normalised form (SPEC §3.3), under which offers are compared. */
  normalised: string;
  /** The export it comes from. */
  export: string;
  choice: RegistryChoice;
  /** Every readable offer of this registry, by export then key; sameCredentials compares with what is written. */
  offeredBy: { export: string; key: string; weight: number; sameCredentials: boolean }[];
}

export interface ConflictExplanation {
  /** Normalised registry. */
  registry: string;
  /** The exports with differing credentials tied at the highest weight, by key. */
  exports: string[];
  /** Their weight. */
  weight: number;
  /** The entry the placeholder keeps for it (SPEC §3.5), or null when the registry is left out. */
  kept: { registry: string; export: string } | null;
  /** How to resolve it, in words. */
  resolution: string;
  /** One command per export, run the one for the export that should win; empty for a single export. */
  commands: string[];
}

export interface ImportExplanation {
  name: string;
  /** spec.fromNamespace, null when the spec is invalid. */
  fromNamespace: string | null;
  /** The export it imports, "fromNamespace/name", or null. */
  export: string | null;
  /** Ready: the export exists, is valid, reaches the namespace and its source exists (SPEC §4.1). */
  satisfied: boolean;
  /** The Ready reason the controller sets, such as `Imported` or `NoMatchingExport`. */
  reason: string;
  /** The Ready message the controller sets. */
  message: string;
  /** Why it is not satisfied, in detail; null when it is. */
  why: string | null;
  /** What the controller does to the Secret namespace/name. */
  copy: CopyState;
}

export type CopyState =
  | "inSync"
  | "willBeCreated"
  | "willBeUpdated"
  /** Its type changed: deleted and created again. */
  | "willBeReplaced"
  | "willBeDeleted"
  /** A Secret the import does not control sits at its name: left alone. */
  | "notOurs"
  /** No copy, and none is made. */
  | "absent";

// ---------------------------------------------------------------------------------------------

export function explain(input: ExplainInput): Explanation {
  const namespace = input.namespaceView;
  const wanted = (name: string) => input.secret === undefined || input.secret === name;
  const dockerSource = (key: string) => {
    const secret = input.secrets.get(key);
    return secret?.type === SECRET_TYPE_DOCKER_CONFIG_JSON ? secret : undefined;
  };
  const candidates =
    namespace === undefined
      ? []
      : placeholderCandidates(input.exports, dockerSource, namespace, (s) => parseSecretDockerConfig(s.data));
  const placeholders = input.placeholders
    .filter((p) => p.namespace === input.namespace && isPlaceholder(p.annotations) && wanted(p.name))
    .sort((a, b) => compareBytewise(a.name, b.name))
    .map((p) => explainPlaceholder(p, namespace, candidates));
  const imports = input.imports
    .filter((i) => i.namespace === input.namespace && wanted(i.name))
    .sort((a, b) => compareBytewise(a.name, b.name))
    .map((i) => explainImport(i, input));
  return {
    schemaVersion: 1,
    namespace: {
      name: input.namespace,
      exists: namespace !== undefined,
      terminating: namespace?.terminating ?? false,
      excludedFromWildcardMatching:
        namespace !== undefined && Object.hasOwn(namespace.annotations, ANNOTATION_EXCLUDED_FROM_WILDCARD),
      labels: Object.fromEntries(
        Object.entries(namespace?.labels ?? {}).sort(([a], [b]) => compareBytewise(a, b)),
      ),
    },
    secret: input.secret ?? null,
    exports: [...input.exports]
      .sort((a, b) => compareBytewise(keyOf(a), keyOf(b)))
      .map((e) => explainExport(e, input, candidates)),
    placeholders,
    imports,
    notes: notes(input, placeholders, imports),
  };
}

function notes(
  input: ExplainInput,
  placeholders: PlaceholderExplanation[],
  imports: ImportExplanation[],
): string[] {
  const found: string[] = [];
  if (input.namespaceView === undefined) {
    found.push(`The namespace ${input.namespace} does not exist: no export reaches it.`);
  } else if (input.namespaceView.terminating) {
    found.push(`The namespace ${input.namespace} is being deleted: no export reaches it.`);
  }
  if (input.secret !== undefined && placeholders.length === 0 && imports.length === 0) {
    found.push(
      `${input.namespace}/${input.secret} is neither a placeholder (a Secret annotated ` +
        `${ANNOTATION_IMAGE_PULL_SECRET}) nor a SecretImport.`,
    );
  }
  return found;
}

function explainExport(
  entry: ExportView,
  input: ExplainInput,
  candidates: readonly Candidate[],
): ExportExplanation {
  const base = { export: keyOf(entry), weight: entry.weight };
  const namespace = input.namespaceView;
  const notReached = (reason: NotReachedReason, detail: string, problems: FieldProblem[] = []) => ({
    ...base,
    reached: false as const,
    reason,
    detail,
    problems,
  });
  if (!entry.destinations.ok) {
    return notReached("invalidSpec", "its spec is invalid, so it reaches no namespace", [
      ...entry.destinations.problems,
    ]);
  }
  if (namespace === undefined) return notReached("namespaceNotFound", "the namespace does not exist");
  const { compiled } = entry.destinations;
  const verdict = reach(compiled, namespace);
  if (verdict.reached) {
    return {
      ...base,
      reached: true,
      rule: verdict.rule,
      detail: verdict.detail,
      source: explainSource(input.secrets.get(base.export)),
      placeholderCandidate: candidates.some((c) => c.exportKey === base.export),
    };
  }
  if (namespace.terminating) return notReached("namespaceTerminating", verdict.why);
  // Excluded, when the very same rules would reach it without the annotation.
  const { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: exclusion, ...others } = namespace.annotations;
  const excluded = exclusion !== undefined && reach(compiled, { ...namespace, annotations: others }).reached;
  return notReached(excluded ? "excludedFromWildcardMatching" : "noMatch", verdict.why);
}

function explainSource(secret: SecretView | undefined): SourceExplanation {
  const none = { registries: [], skipped: [], unreadable: null, registryCredential: null };
  if (secret === undefined) return { exists: false, type: null, ...none };
  if (secret.type !== SECRET_TYPE_DOCKER_CONFIG_JSON) return { exists: true, type: secret.type, ...none };
  const parsed = parseSecretDockerConfig(secret.data);
  if (!parsed.ok) return { exists: true, type: secret.type, ...none, unreadable: parsed.message };
  return {
    exists: true,
    type: secret.type,
    registries: sortedUnique(parsed.entries.map((e) => e.key)),
    skipped: sortedUnique(parsed.skipped),
    unreadable: null,
    registryCredential: Object.hasOwn(secret.annotations, ANNOTATION_CREDENTIAL_REFRESHED_AT)
      ? { expiresAt: secret.annotations[ANNOTATION_CREDENTIAL_EXPIRES_AT] ?? null }
      : null,
  };
}

function explainPlaceholder(
  secret: SecretView,
  namespace: NamespaceView | undefined,
  candidates: readonly Candidate[],
): PlaceholderExplanation {
  const empty = {
    candidates: [],
    registries: [],
    conflicts: [],
    unreadableSources: [],
    skipped: [],
  };
  const currentStatus = secret.annotations[ANNOTATION_STATUS];
  // As the controller: the status of a placeholder of another type is written in any namespace.
  if (secret.type !== SECRET_TYPE_DOCKER_CONFIG_JSON) {
    const patch = placeholderPatch(secret, { status: WRONG_TYPE_STATUS });
    return {
      name: secret.name,
      type: secret.type,
      ...syncOf(patch),
      problem: `${MESSAGE_WRONG_PLACEHOLDER_TYPE}: its data is left alone; recreate it with type ${SECRET_TYPE_DOCKER_CONFIG_JSON}`,
      ...empty,
      condition: conditionOf(WRONG_TYPE_STATUS),
    };
  }
  if (namespace === undefined || namespace.terminating) {
    return {
      name: secret.name,
      type: secret.type,
      sync: "notReconciled",
      changes: [],
      problem: "its namespace is being deleted: the controller leaves it alone",
      ...empty,
      condition: conditionOf(currentStatus),
    };
  }
  const { desired, tooLarge, patch } = planPlaceholder(secret, candidates);
  const preferred = [...candidates].sort(compareCandidates);
  const registries = desired.registries
    .flatMap(({ registry, offers, written }) =>
      written === undefined ? [] : [explainRegistry(registry, offers, written.offer, written.choice)],
    )
    .sort((a, b) => compareBytewise(a.registry, b.registry));
  const newStatus = patch?.metadata.annotations?.[ANNOTATION_STATUS] ?? currentStatus;
  return {
    name: secret.name,
    type: secret.type,
    ...syncOf(patch),
    problem:
      tooLarge === undefined
        ? null
        : tooLarge === MESSAGE_TOO_LARGE
          ? "the merged credentials exceed the 1 MiB Secret size limit: it keeps its current data"
          : "the status of the merged credentials exceeds the 256 KiB annotation limit: it keeps its current data",
    candidates: preferred.map((c) => ({
      export: c.exportKey,
      weight: c.weight,
      sameNamespace: c.sameNamespace,
      exact: c.exact,
    })),
    registries,
    conflicts: desired.registries.flatMap(({ conflict, offers, written }) =>
      conflict === undefined ? [] : [explainConflict(conflict, offers, written?.offer)],
    ),
    unreadableSources: desired.unreadable.map((u) => ({ export: u.exportKey, message: u.message })),
    skipped: desired.skipped.map((s) => ({ export: s.exportKey, registries: sortedUnique(s.registries) })),
    condition: conditionOf(newStatus),
  };
}

function explainRegistry(
  normalised: string,
  offers: readonly Offer[],
  written: Offer,
  choice: RegistryChoice,
): RegistryExplanation {
  const offeredBy = offers
    .filter((offer) => offer.readable)
    .map((offer) => ({
      export: offer.exportKey,
      key: offer.key,
      weight: offer.weight,
      sameCredentials: isDeepStrictEqual(offer.entry, written.entry),
    }))
    .sort((a, b) => compareBytewise(a.export, b.export) || compareBytewise(a.key, b.key));
  return { registry: written.key, normalised, export: written.exportKey, choice, offeredBy };
}

function explainConflict(
  { registry, exports }: Conflict,
  offers: readonly Offer[],
  written: Offer | undefined,
): ConflictExplanation {
  const weight = Math.max(...offers.map((o) => o.weight));
  const kept = written === undefined ? null : { registry: written.key, export: written.exportKey };
  return { registry, exports: [...exports], weight, kept, ...resolve(registry, exports, offers, weight) };
}

/** How to resolve a conflict: within one export's Secret, or by weight between several exports. */
function resolve(
  registry: string,
  exports: readonly string[],
  offers: readonly Offer[],
  weight: number,
): Pick<ConflictExplanation, "resolution" | "commands"> {
  const [only] = exports;
  if (exports.length === 1 && only !== undefined) {
    const keys = offers.filter((o) => o.readable && o.exportKey === only).map((o) => o.key);
    return {
      resolution:
        `the Secret ${only} offers different credentials for ${registry} under several keys ` +
        `(${sortedUnique(keys).join(", ")}): keep only one of them`,
      commands: [],
    };
  }
  const next = Math.floor(weight) + 1;
  return {
    resolution:
      `give the export that should win a ${ANNOTATION_WEIGHT} annotation above ${weight}, ` +
      `or remove ${registry} from the Secrets of the others`,
    commands: exports.map((key) => {
      const [namespace, name] = splitKey(key);
      return `kubectl annotate secretexport -n ${namespace} ${name} ${ANNOTATION_WEIGHT}=${next} --overwrite`;
    }),
  };
}

function syncOf(patch: PlaceholderPatch | undefined): Pick<PlaceholderExplanation, "sync" | "changes"> {
  if (patch === undefined) return { sync: "inSync", changes: [] };
  const changes: ("data" | "status")[] = [];
  if (patch.data !== undefined) changes.push("data");
  if (patch.metadata.annotations !== undefined) changes.push("status");
  return { sync: "willBeRewritten", changes };
}

/** The first condition of a status annotation. */
function conditionOf(status: string | undefined): PlaceholderExplanation["condition"] {
  try {
    const parsed = JSON.parse(status ?? "") as { conditions?: { type?: unknown; message?: unknown }[] };
    const [first] = Array.isArray(parsed.conditions) ? parsed.conditions : [];
    if (typeof first?.type === "string") {
      return { type: first.type, message: typeof first.message === "string" ? first.message : null };
    }
  } catch {
    // none yet, or unreadable
  }
  return { type: "None", message: null };
}

function explainImport(entry: ImportEntry, input: ExplainInput): ImportExplanation {
  const fromNamespace = entry.spec.ok ? entry.spec.spec.fromNamespace : undefined;
  const exportKey = fromNamespace === undefined ? undefined : `${fromNamespace}/${entry.name}`;
  const exported = input.exports.find((e) => keyOf(e) === exportKey);
  const notOffered = whyNotOffered(input.namespaceView, exported);
  const source =
    notOffered ?? offeredSecret(exportKey === undefined ? undefined : input.secrets.get(exportKey));
  const existing = input.importTargets.get(entry.name);
  const decision = decideImport(importFacts(entry, source, existing));
  const { ready, reason, message } = decision.outcome;
  return {
    name: entry.name,
    fromNamespace: fromNamespace ?? null,
    export: exportKey ?? null,
    satisfied: ready,
    reason,
    message,
    why: whyText(decision.why, message, input.namespace, exportKey),
    copy: copyState(decision.action, ready, existing),
  };
}

function whyText(why: ImportWhy, message: string, namespace: string, exportKey: string | undefined) {
  switch (why.kind) {
    case "imported":
      return null;
    case "namespaceNotFound":
      return `the namespace ${namespace} does not exist`;
    case "noExport":
      return `there is no SecretExport ${exportKey}`;
    case "invalidExport": {
      const problems = why.problems.map((p) => `${p.field}: ${p.message}`);
      return `the SecretExport ${exportKey} is invalid: ${problems.join("; ")}`;
    }
    case "notReached":
      return `the SecretExport ${exportKey} does not reach ${namespace}: ${why.why}`;
    case "noSource":
      return `the exported Secret ${exportKey} does not exist`;
    default:
      return message;
  }
}

function copyState(action: Action, ready: boolean, existing: ExistingSecret | undefined): CopyState {
  switch (action.kind) {
    case "create":
      return "willBeCreated";
    case "patch":
      return "willBeUpdated";
    case "replace":
      return "willBeReplaced";
    case "delete":
      return "willBeDeleted";
    case "none":
      if (ready) return "inSync";
      return existing === undefined ? "absent" : "notOurs";
  }
}
