// The shell side of the error taxonomy: a thrown error as the plain facts src/core classifies.
import { classifyError, type ErrorClass, retryDelayMs } from "../core/api-errors.ts";
import { ApiError, RequestTimeout } from "../runtime/kube-http.ts";

/** A write refused because this process is not (or no longer) the leader. */
export class NotLeading extends Error {
  constructor() {
    super("not writing: this process does not hold the leader election lease");
  }
}

export const errorClassOf = (err: unknown): ErrorClass =>
  classifyError({
    status: err instanceof ApiError ? err.status : undefined,
    timedOut: err instanceof RequestTimeout,
    notLeading: err instanceof NotLeading,
  });

/** For the work queue: how long a failed reconcile waits, when not its exponential backoff. */
export const retryDelayOf = (err: unknown, backoffMs: number): number | undefined =>
  retryDelayMs(errorClassOf(err), backoffMs, err instanceof ApiError ? err.retryAfterMs : undefined);
