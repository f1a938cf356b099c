// RegistryCredential decisions (SPEC §9): when to mint, when to refresh, how long to back off, what
// the status and the Events say, and the Secret content. Pure: times are epoch milliseconds passed
// in, never read; a credential's timing lives in its Secret's annotations, so a restart computes
// the same schedule and does not mint a credential that is still fresh.
import { createHash } from "node:crypto";
import type { Condition, RegistryCredentialSpec, RegistryCredentialStatus } from "./types.ts";
import {
  ANNOTATION_CREDENTIAL_EXPIRES_AT,
  ANNOTATION_CREDENTIAL_MINTED_FROM,
  ANNOTATION_CREDENTIAL_REFRESHED_AT,
  CONDITION_READY,
  EVENT_CREDENTIAL_EXPIRED,
  EVENT_CREDENTIAL_INVALID,
  EVENT_CREDENTIAL_REFRESHED,
  EVENT_CREDENTIAL_REFRESH_FAILED,
  EVENT_CREDENTIAL_SECRET_EXISTS,
  PROVIDER_NAMES,
  REASON_CREDENTIAL_EXPIRED,
  REASON_INVALID_SPEC,
  REASON_PROVIDER_NOT_CONFIGURED,
  REASON_REFRESHED,
  REASON_REFRESH_FAILED,
  REASON_SECRET_EXISTS,
  REASON_SECRET_NOT_FOUND,
} from "../constants.ts";
import { type Readiness, setCondition } from "./conditions.ts";
import { type RegistryEntry, serialiseDockerConfig } from "./dockerconfig.ts";
import { toSeconds } from "./time.ts";
import type { EventSpec } from "./transitions.ts";
import type { FieldProblem, StringMap } from "./types.ts";

export type ProviderName = (typeof PROVIDER_NAMES)[number];

export const DEFAULT_LIFETIME_FRACTION = 0.5;
export const DEFAULT_MARGIN_SECONDS = 300;
/** The planned refresh moves by up to this fraction of itself, either way. */
export const JITTER = 0.1;
/** However large the margin, a credential is used for at least this fraction of its lifetime. */
export const MIN_USE_FRACTION = 0.1;
export const RETRY_BASE_MS = 1_000;
export const RETRY_MAX_MS = 5 * 60_000;

/** The provider a spec names (the schema guarantees exactly one). */
export function providerOf(spec: RegistryCredentialSpec): ProviderName {
  return PROVIDER_NAMES.find((name) => spec[name] !== undefined) ?? "basicAuth";
}

/** The input Secret a spec names in the RegistryCredential's namespace, if any. */
export function inputSecretName(spec: RegistryCredentialSpec): string | undefined {
  return (spec.basicAuth ?? spec.ecr ?? spec.gcp ?? spec.acr)?.secretRef?.name;
}

/** What the credential in the Secret is, read from the Secret's annotations. */
export interface CredentialRecord {
  refreshedAt: number;
  expiresAt?: number;
  /** The spec generation and input resourceVersion it was minted from: a change means mint again. */
  mintedFrom: string;
}

export const mintedFrom = (generation: number, inputVersion: string | undefined): string =>
  `${generation}/${inputVersion ?? ""}`;

/** The record of a credential minted at `now`, in whole seconds as the annotations keep it. */
export function newRecord(now: number, minted: Minted, from: string): CredentialRecord {
  const expiresAt = minted.expiresAt === undefined ? undefined : wholeSecond(minted.expiresAt.getTime());
  return {
    refreshedAt: wholeSecond(now),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    mintedFrom: from,
  };
}

const wholeSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

export function readRecord(annotations: StringMap): CredentialRecord | undefined {
  const refreshedAt = Date.parse(annotations[ANNOTATION_CREDENTIAL_REFRESHED_AT] ?? "");
  const from = annotations[ANNOTATION_CREDENTIAL_MINTED_FROM];
  if (Number.isNaN(refreshedAt) || from === undefined) return undefined;
  const expires = annotations[ANNOTATION_CREDENTIAL_EXPIRES_AT];
  const expiresAt = expires === undefined ? undefined : Date.parse(expires);
  if (Number.isNaN(expiresAt)) return undefined;
  return { refreshedAt, ...(expiresAt === undefined ? {} : { expiresAt }), mintedFrom: from };
}

/** The annotations that record a credential; expires-at is null (removed) when it does not expire. */
export function recordAnnotations(record: CredentialRecord): Record<string, string | null> {
  return {
    [ANNOTATION_CREDENTIAL_REFRESHED_AT]: toSeconds(record.refreshedAt),
    [ANNOTATION_CREDENTIAL_EXPIRES_AT]: record.expiresAt === undefined ? null : toSeconds(record.expiresAt),
    [ANNOTATION_CREDENTIAL_MINTED_FROM]: record.mintedFrom,
  };
}

export interface RefreshTuning {
  lifetimeFraction: number;
  marginMs: number;
}

export const tuningOf = (spec: RegistryCredentialSpec): RefreshTuning => ({
  lifetimeFraction: spec.refresh?.lifetimeFraction ?? DEFAULT_LIFETIME_FRACTION,
  marginMs: (spec.refresh?.marginSeconds ?? DEFAULT_MARGIN_SECONDS) * 1000,
});

/**
 * When to refresh: after `lifetimeFraction` of the reported lifetime, moved by up to ±JITTER of
 * itself (the same for the same `seed`, so a restart plans the same time), never later than the
 * margin before expiry, and never before MIN_USE_FRACTION of the lifetime. Undefined: it does not
 * expire.
 */
export function refreshAt(record: CredentialRecord, tuning: RefreshTuning, seed: string): number | undefined {
  if (record.expiresAt === undefined) return undefined;
  const lifetime = record.expiresAt - record.refreshedAt;
  if (lifetime <= 0) return record.refreshedAt;
  const planned = record.refreshedAt + lifetime * tuning.lifetimeFraction * (1 + JITTER * unitJitter(seed));
  const earliest = record.refreshedAt + lifetime * MIN_USE_FRACTION;
  return Math.round(Math.max(earliest, Math.min(planned, record.expiresAt - tuning.marginMs)));
}

/** A number in [-1, 1], fixed for the seed. */
function unitJitter(seed: string): number {
  const word = createHash("sha256").update(seed).digest().readUInt32BE(0);
  return (word / 0xffffffff) * 2 - 1;
}

/**
 * How long to wait after the `failures`-th failure in a row: doubling from RETRY_BASE_MS up to
 * RETRY_MAX_MS, and at most a quarter of the time the credential has left, so retries tighten as
 * expiry nears.
 */
export function retryDelay(failures: number, now: number, expiresAt: number | undefined): number {
  const doubling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
  if (expiresAt === undefined || expiresAt <= now) return doubling;
  return Math.max(RETRY_BASE_MS, Math.min(doubling, (expiresAt - now) / 4));
}

/** What the Secret S/N looks like to the reconcile. */
export interface TargetSecret {
  /** Its controller ownerReference is this RegistryCredential. */
  owned: boolean;
  annotations: StringMap;
  /** It holds a `.dockerconfigjson`. */
  filled: boolean;
}

export interface MintFacts {
  generation: number;
  uid: string;
  spec: RegistryCredentialSpec;
  secret: TargetSecret | undefined;
  /** The input Secret's resourceVersion; undefined when the spec names none. */
  inputVersion: string | undefined;
  now: number;
}

export type MintPlan =
  | { mint: true; why: "missing" | "changed" | "due" }
  | { mint: false; record: CredentialRecord; refreshAt: number | undefined };

/** Mint when there is no credential, its spec or input changed, or its refresh is due; else wait. */
export function planMint(facts: MintFacts): MintPlan {
  const record = facts.secret?.filled ? readRecord(facts.secret.annotations) : undefined;
  if (record === undefined) return { mint: true, why: "missing" };
  if (record.mintedFrom !== mintedFrom(facts.generation, facts.inputVersion))
    return { mint: true, why: "changed" };
  const at = refreshAt(record, tuningOf(facts.spec), seedOf(facts.uid, record));
  if (at !== undefined && at <= facts.now) return { mint: true, why: "due" };
  return { mint: false, record, refreshAt: at };
}

export const seedOf = (uid: string, record: CredentialRecord): string => `${uid}/${record.refreshedAt}`;

export interface Minted {
  auths: Record<string, { username: string; password: string }>;
  expiresAt?: Date;
  identity?: string;
}

/** The `.dockerconfigjson` of a minted credential: registry keys sorted, `auth` beside the pair. */
export function dockerConfigOf(minted: Minted): string {
  const entries: RegistryEntry[] = Object.entries(minted.auths).map(([key, { username, password }]) => ({
    key,
    entry: { username, password, auth: Buffer.from(`${username}:${password}`).toString("base64") },
  }));
  return serialiseDockerConfig(entries);
}

/** Why the reconcile could not give the Secret a fresh credential. */
export type Problem =
  | { reason: typeof REASON_INVALID_SPEC; problems: FieldProblem[] }
  | { reason: typeof REASON_SECRET_EXISTS | typeof REASON_SECRET_NOT_FOUND; message: string }
  | { reason: typeof REASON_PROVIDER_NOT_CONFIGURED; message: string }
  | { reason: typeof REASON_REFRESH_FAILED; message: string };

export interface StatusFacts {
  generation: number;
  provider: ProviderName | undefined;
  previous: RegistryCredentialStatus;
  now: number;
  /** The credential the Secret holds after this reconcile, if any. */
  record: CredentialRecord | undefined;
  registries: string[] | undefined;
  identity: string | undefined;
  nextRefresh: number | undefined;
  /** Set when this reconcile failed; failures count only refreshes that were attempted. */
  problem: Problem | undefined;
  /** This reconcile minted (and wrote) a new credential. */
  minted: boolean;
}

export function credentialOutcome(facts: StatusFacts): Readiness {
  const { problem, record, now } = facts;
  if (problem?.reason === REASON_INVALID_SPEC) {
    const lines = problem.problems.map((p) => `${p.field}: ${p.message}`);
    return { ready: false, reason: REASON_INVALID_SPEC, message: `Validation errors:\n${lines.join("\n")}` };
  }
  if (problem?.reason === REASON_SECRET_EXISTS) return { ready: false, ...problem };
  const expired = record?.expiresAt !== undefined && record.expiresAt <= now;
  if (problem !== undefined && expired) {
    return {
      ready: false,
      reason: REASON_CREDENTIAL_EXPIRED,
      message: `The credential expired at ${toSeconds(record.expiresAt ?? now)} and could not be refreshed: ${problem.message}`,
    };
  }
  if (problem !== undefined) {
    const kept = record ? "; the Secret keeps its last credential" : "";
    return { ready: false, reason: problem.reason, message: `${problem.message}${kept}` };
  }
  const until =
    record?.expiresAt === undefined ? "does not expire" : `expires at ${toSeconds(record.expiresAt)}`;
  return { ready: true, reason: REASON_REFRESHED, message: `The Secret holds a credential that ${until}` };
}

/** The status to write: every field, always, so an unchanged one is never written again. */
export function credentialStatus(facts: StatusFacts): {
  status: RegistryCredentialStatus;
  outcome: Readiness;
} {
  const outcome = credentialOutcome(facts);
  const { previous, problem, record } = facts;
  const attempted = problem?.reason === REASON_REFRESH_FAILED;
  const failures = attempted
    ? (previous.consecutiveFailures ?? 0) + 1
    : problem
      ? (previous.consecutiveFailures ?? 0)
      : 0;
  const ready: Omit<Condition, "lastTransitionTime"> = {
    type: CONDITION_READY,
    status: outcome.ready ? "True" : "False",
    reason: outcome.reason,
    message: outcome.message,
    observedGeneration: facts.generation,
  };
  const status: RegistryCredentialStatus = {
    observedGeneration: facts.generation,
    conditions: setCondition(previous.conditions ?? [], ready, toSeconds(facts.now)),
    ...defined({
      provider: facts.provider,
      registries: facts.registries,
      identity: facts.identity,
      expiresAt: record?.expiresAt === undefined ? undefined : toSeconds(record.expiresAt),
      lastRefreshTime: record === undefined ? undefined : toSeconds(record.refreshedAt),
      nextRefreshTime: facts.nextRefresh === undefined ? undefined : toSeconds(facts.nextRefresh),
    }),
    consecutiveFailures: failures,
  };
  return { status, outcome };
}

const EVENT_OF: Record<string, string> = {
  [REASON_REFRESH_FAILED]: EVENT_CREDENTIAL_REFRESH_FAILED,
  [REASON_CREDENTIAL_EXPIRED]: EVENT_CREDENTIAL_EXPIRED,
  [REASON_SECRET_EXISTS]: EVENT_CREDENTIAL_SECRET_EXISTS,
  [REASON_INVALID_SPEC]: EVENT_CREDENTIAL_INVALID,
  [REASON_SECRET_NOT_FOUND]: EVENT_CREDENTIAL_INVALID,
  [REASON_PROVIDER_NOT_CONFIGURED]: EVENT_CREDENTIAL_INVALID,
};

/** The Event for a change of the Ready reason; none while it stays the same. */
export function credentialEvent(before: string | undefined, after: Readiness): EventSpec | undefined {
  if (before === after.reason) return undefined;
  if (after.ready) return { type: "Normal", reason: EVENT_CREDENTIAL_REFRESHED, message: after.message };
  const reason = EVENT_OF[after.reason];
  return reason === undefined ? undefined : { type: "Warning", reason, message: after.message };
}

const defined = <T extends object>(fields: T): Partial<T> =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
