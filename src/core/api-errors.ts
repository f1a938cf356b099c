// What a failed API request means for the reconcile that made it, controller-runtime and Flux style:
// answers that retrying will not change (a rejection) are reported on the object and retried slowly;
// 429 waits as long as the server asks; everything else retries with the work queue's backoff.
import { REASON_WRITE_REJECTED } from "../constants.ts";
import type { Readiness } from "./conditions.ts";

export type ErrorClass =
  "rejected" | "throttled" | "conflict" | "not_found" | "server" | "timeout" | "transport" | "not_leading";

/** A failed request as plain data: its HTTP status, or how it failed without one. */
export interface FailedRequest {
  status?: number;
  timedOut?: boolean;
  notLeading?: boolean;
}

/** Retried this long after a rejection, unless something the object depends on changes first. */
export const REJECTED_RETRY_MS = 300_000;
/** The longest a server's Retry-After is honoured. */
export const MAX_RETRY_AFTER_MS = 300_000;
const MAX_MESSAGE_LENGTH = 256;

export function classifyError({ status, timedOut, notLeading }: FailedRequest): ErrorClass {
  if (notLeading) return "not_leading";
  if (timedOut) return "timeout";
  if (status === undefined) return "transport";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 429) return "throttled";
  // 401 (an expired token is refreshed) and 410 (a newer version exists) change on retry.
  if (status >= 400 && status < 500 && status !== 401 && status !== 410) return "rejected";
  return "server";
}

/**
 * The delay before retrying, or undefined for the work queue's exponential backoff: slow for a
 * rejection, the server's Retry-After (capped) for 429 when it is longer than the backoff.
 */
export function retryDelayMs(errorClass: ErrorClass, backoffMs: number, retryAfterMs?: number) {
  if (errorClass === "rejected") return REJECTED_RETRY_MS;
  if (errorClass === "throttled" && retryAfterMs !== undefined)
    return Math.max(backoffMs, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  return undefined;
}

/**
 * Ready=False WriteRejected with the server's reason and message, shortened; field values quoted
 * by validation ("Invalid value: ...") are left out, as they may be what the write carried.
 */
export function rejectedOutcome(reason: string | undefined, message: string | undefined): Readiness {
  const redacted = (message ?? "").replace(/Invalid value: ("(?:[^"\\]|\\.)*"|\S+)/g, "Invalid value");
  const text = `${reason ?? "Rejected"}: ${redacted}`;
  const short = text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
  return { ready: false, reason: REASON_WRITE_REJECTED, message: short };
}
