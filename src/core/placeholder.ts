// The content of one placeholder Secret: which export's credentials each registry gets (SPEC §3.2-3.6)
// and the status annotation that records the outcome (SPEC §1, §3.8).

import { isDeepStrictEqual } from "node:util";
import {
  ANNOTATION_STATUS,
  ANNOTATION_WEIGHT,
  CONDITION_RECONCILE_FAILED,
  CONDITION_RECONCILE_SUCCEEDED,
  DOCKER_CONFIG_JSON_KEY,
  MESSAGE_WRONG_PLACEHOLDER_TYPE,
} from "../constants.ts";
import {
  compareBytewise,
  parseDockerConfig,
  serialiseDockerConfig,
  stringifyMembers,
} from "./dockerconfig.ts";
import type { ParsedDockerConfig, RegistryEntry } from "./dockerconfig.ts";
import { isJsonObject } from "./json.ts";
import { sortedUnique } from "./keys.ts";
import { normaliseRegistry } from "./registries.ts";

/** An export that reaches the placeholder's namespace and whose source is a dockerconfigjson Secret. */
export interface Candidate {
  /** "namespace/name" of the export and of its source. */
  exportKey: string;
  /** From the weight annotation; never NaN, which would make the order inconsistent. */
  weight: number;
  /** The source is in the placeholder's namespace. */
  sameNamespace: boolean;
  /** The export names the namespace exactly, rather than reaching it through a glob or selector. */
  exact: boolean;
  source: ParsedDockerConfig;
}

export interface PlaceholderInput {
  candidates: readonly Candidate[];
  /** The placeholder's decoded `.dockerconfigjson`, as found. */
  currentConfig: string | undefined;
  /** The placeholder's status annotation, as found. */
  currentStatus: string | undefined;
}

export interface Conflict {
  /** Normalised registry key. */
  registry: string;
  /** The exports whose differing credentials tie at the highest weight, sorted. */
  exports: string[];
}

/** Registry key as written → the export it came from. */
export type Sources = ReadonlyMap<string, string>;

export interface PlaceholderResult {
  dockerConfigJson: string;
  status: string;
  sources: Sources;
  /** Every registry offered, by normalised key: which offer was written and why. */
  registries: RegistryDecision[];
  conflicts: Conflict[];
  unreadable: { exportKey: string; message: string }[];
  skipped: { exportKey: string; registries: string[] }[];
}

export interface PlaceholderStatus {
  sources: Sources;
  conflicts: Conflict[];
}

/** One export's entry for a registry. */
export interface Offer extends RegistryEntry {
  exportKey: string;
  weight: number;
  /** False for an entry kept from the placeholder because its export's source is unreadable. */
  readable: boolean;
}

/** Why the offer written for a registry is the one. */
export type RegistryChoice =
  /** The only offer of it. */
  | "onlyOffer"
  /** Several offer it, all with the same credentials: the most preferred provides it. */
  | "identicalCredentials"
  /** Credentials differ, and the highest weight decides. */
  | "highestWeight"
  /** A conflict: the current entry stays while its export still offers it (SPEC §3.5). */
  | "keptDuringConflict"
  /** Its export's source is unreadable: the current entry stays until it is fixed (SPEC §3.5). */
  | "keptWhileSourceUnreadable";

export interface RegistryDecision {
  /** Normalised registry key (SPEC §3.3), under which offers are compared. */
  registry: string;
  /** Every offer of it, least to most preferred. */
  offers: Offer[];
  /** What is written and why; undefined when a conflict leaves the registry out. */
  written: { offer: Offer; choice: RegistryChoice } | undefined;
  /** Set when differing credentials tie at the highest weight. */
  conflict: Conflict | undefined;
}

/** The Kubernetes limit on the total size of a Secret's (decoded) data values. */
const SECRET_DATA_LIMIT_BYTES = 1_048_576;
/** The Kubernetes limit on the total size of an object's annotations, keys and values. */
const ANNOTATIONS_LIMIT_BYTES = 262_144;

/** carvel's order, least preferred first: weight, other namespace, glob or selector, then key. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.weight !== b.weight) return a.weight < b.weight ? -1 : 1;
  if (a.sameNamespace !== b.sameNamespace) return a.sameNamespace ? 1 : -1;
  if (a.exact !== b.exact) return a.exact ? 1 : -1;
  return compareBytewise(a.exportKey, b.exportKey);
}

/** What a placeholder should hold, given the exports that reach its namespace and what it holds now. */
export function desiredPlaceholder(input: PlaceholderInput): PlaceholderResult {
  const candidates = [...input.candidates].sort(compareCandidates);
  const current = currentEntries(input.currentConfig);
  const previous = parsePlaceholderStatus(input.currentStatus).sources;
  const offers = candidates.flatMap((candidate) => candidateOffers(candidate, current, previous));
  const groups = [...Map.groupBy(offers, (offer) => normaliseRegistry(offer.key))];
  const registries = groups
    .sort(([a], [b]) => compareBytewise(a, b))
    .map(([registry, group]) => decideRegistry(registry, group, current, previous));
  return result(candidates, registries);
}

function decideRegistry(
  registry: string,
  offers: Offer[],
  current: RegistryEntry[],
  previous: Sources,
): RegistryDecision {
  const chosen = winner(offers);
  if (chosen === undefined) {
    const kept = incumbent(registry, offers, current, previous);
    const written = kept && { offer: kept, choice: "keptDuringConflict" as const };
    const exports = sortedUnique(highestWeighted(offers).map((o) => o.exportKey));
    return { registry, offers, written, conflict: { registry, exports } };
  }
  const written = { offer: chosen, choice: choiceOf(chosen, offers) };
  return { registry, offers, written, conflict: undefined };
}

function choiceOf(chosen: Offer, offers: readonly Offer[]): RegistryChoice {
  if (!chosen.readable) return "keptWhileSourceUnreadable";
  if (offers.length === 1) return "onlyOffer";
  const same = offers.every((offer) => isDeepStrictEqual(offer.entry, chosen.entry));
  return same ? "identicalCredentials" : "highestWeight";
}

function currentEntries(config: string | undefined): RegistryEntry[] {
  const parsed = config === undefined ? undefined : parseDockerConfig(config);
  return parsed?.ok ? parsed.entries : [];
}

// An unreadable source still offers the current entries it provided, so they survive until it is
// fixed or stops being a candidate.
function candidateOffers(candidate: Candidate, current: RegistryEntry[], previous: Sources): Offer[] {
  const { exportKey, weight, source } = candidate;
  const entries = source.ok ? source.entries : current.filter(({ key }) => previous.get(key) === exportKey);
  return entries.map(({ key, entry }) => ({ exportKey, weight, key, entry, readable: source.ok }));
}

/** The most preferred of the highest-weight offers, if those all carry the same entry. */
function winner(offers: readonly Offer[]): Offer | undefined {
  const highest = highestWeighted(offers);
  const first = highest[0]?.entry;
  return highest.every((offer) => isDeepStrictEqual(offer.entry, first)) ? highest.at(-1) : undefined;
}

function highestWeighted(offers: readonly Offer[]): Offer[] {
  const max = Math.max(...offers.map((offer) => offer.weight));
  return offers.filter((offer) => offer.weight === max);
}

/**
 * On a conflict the export that provided the current entry keeps the registry while it still offers
 * it. Without a recorded provider (a placeholder last written by carvel) one offering the very same
 * entry is taken to be it.
 */
function incumbent(
  registry: string,
  group: readonly Offer[],
  current: RegistryEntry[],
  previous: Sources,
): Offer | undefined {
  for (const { key, entry } of current.filter((c) => normaliseRegistry(c.key) === registry)) {
    const provider = previous.get(key);
    const own = group.filter((offer) => offer.exportKey === provider);
    const kept =
      provider === undefined
        ? group.findLast((offer) => isDeepStrictEqual(offer.entry, entry))
        : (own.find((offer) => offer.key === key) ?? winner(own));
    if (kept !== undefined) return kept;
  }
  return undefined;
}

function result(candidates: Candidate[], registries: RegistryDecision[]): PlaceholderResult {
  const used = registries.flatMap(({ written }) => (written === undefined ? [] : [written.offer]));
  const conflicts = registries.flatMap(({ conflict }) => conflict ?? []);
  const byKey = [...candidates].sort((a, b) => compareBytewise(a.exportKey, b.exportKey));
  const unreadable = byKey.flatMap(({ exportKey, source }) =>
    source.ok ? [] : [{ exportKey, message: source.message }],
  );
  const sources = new Map(
    used
      .map(({ key, exportKey }): [string, string] => [key, exportKey])
      .sort(([a], [b]) => compareBytewise(a, b)),
  );
  const problems = [
    ...conflicts.map(conflictMessage),
    ...unreadable.map(
      (u) => `Exported secret ${u.exportKey} has an invalid ${DOCKER_CONFIG_JSON_KEY}: ${u.message}`,
    ),
  ];
  return {
    dockerConfigJson: serialiseDockerConfig(used),
    status: statusAnnotation(
      byKey.map((c) => c.exportKey),
      sources,
      conflicts,
      problems,
    ),
    sources,
    registries,
    conflicts,
    unreadable,
    skipped: byKey.flatMap(({ exportKey, source }) =>
      source.ok && source.skipped.length > 0 ? [{ exportKey, registries: source.skipped }] : [],
    ),
  };
}

function conflictMessage({ registry, exports }: Conflict): string {
  const head = `Conflicting credentials for registry ${JSON.stringify(registry)}`;
  if (exports.length === 1) {
    return `${head} under several keys of export ${exports[0]} (keep only one of them)`;
  }
  return `${head} from exports ${exports.join(", ")} (set the ${ANNOTATION_WEIGHT} annotation on the export that should win)`;
}

function statusAnnotation(
  secretNames: string[],
  sources: Sources,
  conflicts: Conflict[],
  problems: string[],
): string {
  const condition =
    problems.length === 0
      ? { type: CONDITION_RECONCILE_SUCCEEDED, status: "True" }
      : { type: CONDITION_RECONCILE_FAILED, status: "True", message: problems.join("; ") };
  const members: [string, string][] = [["conditions", JSON.stringify([condition])]];
  if (secretNames.length > 0) members.push(["secretNames", JSON.stringify(secretNames)]);
  if (sources.size > 0) {
    members.push([
      "sources",
      stringifyMembers([...sources].map(([key, from]) => [key, JSON.stringify(from)])),
    ]);
  }
  if (conflicts.length > 0) members.push(["conflicts", JSON.stringify(conflicts)]);
  return stringifyMembers(members);
}

/** The status of a placeholder that is not of type kubernetes.io/dockerconfigjson; its data is left alone. */
export const WRONG_TYPE_STATUS = JSON.stringify({
  conditions: [{ type: CONDITION_RECONCILE_FAILED, status: "True", message: MESSAGE_WRONG_PLACEHOLDER_TYPE }],
});

/** Reads back what statusAnnotation wrote; anything else (hand edits, carvel's status) reads as empty. */
export function parsePlaceholderStatus(annotation: string | undefined): PlaceholderStatus {
  const status = parseJsonObject(annotation);
  const sources = isJsonObject(status?.sources) ? Object.entries(status.sources) : [];
  const conflicts = Array.isArray(status?.conflicts) ? status.conflicts : [];
  return {
    sources: new Map(sources.filter((pair): pair is [string, string] => typeof pair[1] === "string")),
    conflicts: conflicts
      .filter(isConflict)
      .map(({ registry, exports }) => ({ registry, exports: [...exports] })),
  };
}

/** Whether a Secret holding this `.dockerconfigjson` besides other data values of the given total size is too big. */
export function exceedsSecretDataLimit(dockerConfigJson: string, otherDataBytes: number): boolean {
  return Buffer.byteLength(dockerConfigJson) + otherDataBytes > SECRET_DATA_LIMIT_BYTES;
}

/**
 * Whether this status annotation, besides other annotations of the given total size, is more than
 * Kubernetes allows: with thousands of registries the status (the export of each) outgrows 256 KiB
 * long before the data outgrows 1 MiB.
 */
export function exceedsAnnotationLimit(status: string, otherAnnotationBytes: number): boolean {
  const size = Buffer.byteLength(ANNOTATION_STATUS) + Buffer.byteLength(status);
  return size + otherAnnotationBytes > ANNOTATIONS_LIMIT_BYTES;
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  // No annotation yet is the common case (every new placeholder): not worth a thrown SyntaxError.
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text ?? "");
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isConflict(value: unknown): value is Conflict {
  return (
    isJsonObject(value) &&
    typeof value.registry === "string" &&
    Array.isArray(value.exports) &&
    value.exports.every((e) => typeof e === "string")
  );
}
