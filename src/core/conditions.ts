// Status conditions of SecretExport and SecretImport: carvel's single ReconcileSucceeded /
// ReconcileFailed condition and friendlyDescription, word for word, plus a kstatus-style Ready.
// Pure: the time is passed in (an RFC 3339 string), never read.
import {
  CONDITION_READY,
  CONDITION_RECONCILE_FAILED,
  CONDITION_RECONCILE_SUCCEEDED,
  FRIENDLY_FAILED_PREFIX,
  FRIENDLY_SUCCEEDED,
} from "../constants.ts";
import { isJsonObject } from "./json.ts";
import type { Condition, FieldProblem, GenericStatus } from "./types.ts";

/** What a reconcile concluded: whether the object is Ready, and the Ready reason (a REASON_* constant) and message. */
export interface Readiness {
  ready: boolean;
  reason: string;
  message: string;
}

/** carvel's format for problems with a spec, each problem's field named. */
export function validationMessage(problems: readonly FieldProblem[]): string {
  return ["Validation errors:", ...problems.map((p) => `- ${p.field}: ${p.message}`)].join("\n");
}

/**
 * metav1.Condition semantics: replaces the condition of the same type in place, or appends it, and
 * keeps its lastTransitionTime unless `status` changed.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, "lastTransitionTime">,
  now: string,
): Condition[] {
  const index = conditions.findIndex((condition) => condition.type === next.type);
  const updated = transitioned(next, conditions[index], now);
  return index === -1 ? [...conditions, updated] : conditions.with(index, updated);
}

function transitioned(
  next: Omit<Condition, "lastTransitionTime">,
  previous: Condition | undefined,
  now: string,
) {
  const unchanged = previous?.status === next.status && previous.lastTransitionTime !== undefined;
  return { ...next, lastTransitionTime: unchanged ? previous.lastTransitionTime : now };
}

/**
 * Exactly one carvel condition, ReconcileSucceeded or ReconcileFailed with the message, followed by
 * Ready. carvel's comes first and stays bare, as carvel writes it, for anyone reading conditions[0].
 */
export function reconcileConditions(
  outcome: Readiness,
  generation: number,
  now: string,
  previous: readonly Condition[] = [],
): Condition[] {
  const carvel: Condition = outcome.ready
    ? { type: CONDITION_RECONCILE_SUCCEEDED, status: "True" }
    : { type: CONDITION_RECONCILE_FAILED, status: "True", message: outcome.message };
  const ready = {
    type: CONDITION_READY,
    status: outcome.ready ? "True" : "False",
    reason: outcome.reason,
    message: outcome.message,
    observedGeneration: generation,
  } as const;
  const previousReady = previous.find((condition) => condition.type === CONDITION_READY);
  return [carvel, transitioned(ready, previousReady, now)];
}

/** The status fields both kinds share, for an object at `generation`; all of them, always. */
export function genericStatus(
  outcome: Readiness,
  generation: number,
  now: string,
  previous: readonly Condition[] = [],
): Required<GenericStatus> {
  return {
    observedGeneration: generation,
    conditions: reconcileConditions(outcome, generation, now, previous),
    friendlyDescription: friendlyDescription(outcome.ready ? undefined : outcome.message),
  };
}

// carvel measures with Go's len(), in bytes.
const FRIENDLY_MAX_BYTES = 80;

/**
 * carvel's friendlyDescription: `Reconcile succeeded` without a failure message; otherwise
 * `Reconcile failed: ` and the message's first line, cut to 80 bytes and marked `...` when longer,
 * or marked `...` when more lines follow.
 */
export function friendlyDescription(failure?: string): string {
  if (failure === undefined) return FRIENDLY_SUCCEEDED;
  const [first = "", ...more] = `${FRIENDLY_FAILED_PREFIX}${failure}`.split("\n");
  if (Buffer.byteLength(first) > FRIENDLY_MAX_BYTES) return `${truncateUtf8(first, FRIENDLY_MAX_BYTES)}...`;
  return more.length > 0 ? `${first}...` : first;
}

/** The longest prefix of at most `maxBytes` UTF-8 bytes; unlike carvel, never half a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * Whether writing `desired` would change the stored status: key order, the order of conditions and
 * absent-versus-null fields do not count, so an unchanged status is never written again.
 */
export function statusChanged(current: unknown, desired: unknown): boolean {
  return canonical(current) !== canonical(desired);
}

function canonical(status: unknown): string {
  const fields = isJsonObject(status) ? status : {};
  const { conditions } = fields;
  const sorted = Array.isArray(conditions) ? conditions.toSorted(byType) : conditions;
  return JSON.stringify({ ...fields, conditions: sorted }, sortedKeys);
}

const byType = (a: unknown, b: unknown): number => compare(typeOf(a), typeOf(b));
const typeOf = (condition: unknown): string =>
  isJsonObject(condition) && typeof condition.type === "string" ? condition.type : "";
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function sortedKeys(_key: string, value: unknown): unknown {
  if (!isJsonObject(value)) return value;
  const entries = Object.entries(value).filter(([, field]) => field !== null && field !== undefined);
  return Object.fromEntries(entries.sort(([a], [b]) => compare(a, b)));
}
