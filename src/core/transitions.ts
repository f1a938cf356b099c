// Which Events follow from a status's old and new state: on transitions only, never for a status
// written again unchanged. Pure: the reconcilers record what these return.
import {
  CONDITION_READY,
  EVENT_CONFLICT_DETECTED,
  EVENT_CONFLICT_RESOLVED,
  EVENT_EXPORT_INVALID,
  EVENT_IMPORT_REMOVED,
  REASON_CONFLICT,
  REASON_IMPORTED,
  REASON_INVALID_DOCKER_CONFIG,
  REASON_INVALID_SPEC,
  REASON_SOURCE_IS_PLACEHOLDER,
  REASON_WRITE_REJECTED,
  REASON_SECRET_EXISTS,
} from "../constants.ts";
import type { Readiness } from "./conditions.ts";
import type { Conflict } from "./placeholder.ts";
import type { Condition } from "./types.ts";

/** One Event to record on the object whose status transitioned. */
export interface EventSpec {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** Whether the old and new status differ in what counts as a transition, and the Events that follow. */
export interface Transition {
  transitioned: boolean;
  events: readonly EventSpec[];
}

const NONE: Transition = { transitioned: false, events: [] };
const CONFLICTS_RESOLVED: EventSpec = {
  type: "Normal",
  reason: EVENT_CONFLICT_RESOLVED,
  message: "No registry conflicts remain",
};

/** The reason of the Ready condition, the state transitions are counted on. */
export const readyReason = (conditions: readonly Condition[] | undefined): string | undefined =>
  conditions?.find((c) => c.type === CONDITION_READY)?.reason;

/** A SecretExport whose Ready reason goes from `before` to `after.reason`. */
/** Ready reasons that say the export itself is wrong: each new one is an ExportInvalid Event. */
const INVALID = new Set([REASON_INVALID_SPEC, REASON_INVALID_DOCKER_CONFIG, REASON_SOURCE_IS_PLACEHOLDER]);

export function exportTransition(before: string | undefined, after: Readiness): Transition {
  if (before === after.reason) return NONE;
  const events: EventSpec[] = [];
  if (after.reason === REASON_CONFLICT) {
    events.push({ type: "Warning", reason: EVENT_CONFLICT_DETECTED, message: after.message });
  } else if (INVALID.has(after.reason)) {
    events.push({ type: "Warning", reason: EVENT_EXPORT_INVALID, message: after.message });
  }
  if (before === REASON_CONFLICT) events.push(CONFLICTS_RESOLVED);
  return { transitioned: true, events };
}

/** A SecretImport whose Ready reason goes from `before` to `after.reason`: exactly one Event. */
export function importTransition(before: string | undefined, after: Readiness): Transition {
  if (before === after.reason) return NONE;
  return { transitioned: true, events: [importEvent(before, after)] };
}

function importEvent(before: string | undefined, { ready, reason, message }: Readiness): EventSpec {
  if (ready) return { type: "Normal", reason: REASON_IMPORTED, message };
  // A Secret in the way and a refused write are said as they are, even right after Imported.
  if (reason !== REASON_SECRET_EXISTS && reason !== REASON_WRITE_REJECTED && before === REASON_IMPORTED) {
    return { type: "Warning", reason: EVENT_IMPORT_REMOVED, message };
  }
  return { type: "Warning", reason, message };
}

/**
 * A placeholder whose conflicts go from `previous` to `next`: detected when a registry newly
 * conflicts (naming only the new ones), resolved when the last conflict is gone.
 */
export function placeholderConflictTransition(
  previous: readonly Conflict[],
  next: readonly Conflict[],
): Transition {
  const known = new Set(previous.map((c) => c.registry));
  const appeared = next.filter((c) => !known.has(c.registry));
  if (appeared.length > 0) {
    const registries = appeared.map((c) => `${c.registry} (exports ${c.exports.join(", ")})`).join("; ");
    const message = `Conflicting credentials rejected for registry ${registries}`;
    return { transitioned: true, events: [{ type: "Warning", reason: EVENT_CONFLICT_DETECTED, message }] };
  }
  if (previous.length > 0 && next.length === 0) return { transitioned: true, events: [CONFLICTS_RESOLVED] };
  return NONE;
}
