// What a write the API server refused (WriteRejected) shows on the object it concerns, besides the
// SecretImport's Ready condition: the status annotation of a placeholder whose fill was refused, if
// that alone may still be written, and one Warning Event per transition on a placeholder or an
// object whose status write was refused. Pure: the shell writes what these return.
import { ANNOTATION_STATUS, REASON_WRITE_REJECTED } from "../constants.ts";
import type { Readiness } from "./conditions.ts";
import {
  failedReason,
  failedStatus,
  type PlaceholderPatch,
  placeholderPatch,
  type PlaceholderState,
} from "./placeholder-patch.ts";
import type { Transition } from "./transitions.ts";

/** A Warning Event WriteRejected with the server's reason and message, unless already reported. */
export function rejectionTransition(reported: boolean, outcome: Readiness): Transition {
  if (reported) return { transitioned: false, events: [] };
  return {
    transitioned: true,
    events: [{ type: "Warning", reason: REASON_WRITE_REJECTED, message: outcome.message }],
  };
}

export interface PlaceholderRejection {
  /** The status-annotation-only patch to try; undefined when the annotation says it already. */
  patch: PlaceholderPatch | undefined;
  transition: Transition;
}

/**
 * A placeholder whose fill was refused: its status annotation says WriteRejected, its data and
 * provenance kept. `reported` is this process having said it already; a status annotation that
 * says it (written before a restart) counts as reported too.
 */
export function placeholderRejection(
  current: PlaceholderState,
  outcome: Readiness,
  reported: boolean,
): PlaceholderRejection {
  const status = current.annotations[ANNOTATION_STATUS];
  const patch = placeholderPatch(current, { status: failedStatus(status, outcome.message, outcome.reason) });
  const said = reported || failedReason(status) === REASON_WRITE_REJECTED;
  return { patch, transition: rejectionTransition(said, outcome) };
}
