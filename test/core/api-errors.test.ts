import assert from "node:assert/strict";
import { test } from "node:test";
import { REASON_WRITE_REJECTED } from "../../src/constants.ts";
import {
  classifyError,
  type ErrorClass,
  type FailedRequest,
  REJECTED_RETRY_MS,
  rejectedOutcome,
  retryDelayMs,
} from "../../src/core/api-errors.ts";

test("a failed request is classified by what retrying can change", () => {
  const table: [FailedRequest, ErrorClass][] = [
    [{ status: 400 }, "rejected"],
    [{ status: 403 }, "rejected"],
    [{ status: 413 }, "rejected"],
    [{ status: 422 }, "rejected"],
    [{ status: 401 }, "server"],
    [{ status: 404 }, "not_found"],
    [{ status: 409 }, "conflict"],
    [{ status: 410 }, "server"],
    [{ status: 429 }, "throttled"],
    [{ status: 500 }, "server"],
    [{ status: 503 }, "server"],
    [{}, "transport"],
    [{ timedOut: true }, "timeout"],
    [{ notLeading: true, status: 403 }, "not_leading"],
  ];
  for (const [request, expected] of table)
    assert.equal(classifyError(request), expected, JSON.stringify(request));
});

test("a rejection is retried slowly, a 429 after its Retry-After, the rest with the queue's backoff", () => {
  assert.equal(retryDelayMs("rejected", 10), REJECTED_RETRY_MS);
  assert.equal(retryDelayMs("throttled", 10, 7_000), 7_000);
  assert.equal(retryDelayMs("throttled", 20_000, 7_000), 20_000, "never sooner than the backoff");
  assert.equal(retryDelayMs("throttled", 10, 3_600_000), 300_000, "capped");
  assert.equal(retryDelayMs("throttled", 10), undefined);
  for (const errorClass of ["server", "transport", "timeout", "conflict"] as const)
    assert.equal(retryDelayMs(errorClass, 10), undefined, errorClass);
});

test("a rejection's outcome names the server's reason and message, shortened, without quoted values", () => {
  const quota =
    'secrets "a" is forbidden: exceeded quota: q, requested: secrets=1, used: secrets=0, limited: secrets=0';
  assert.deepEqual(rejectedOutcome("Forbidden", quota), {
    ready: false,
    reason: REASON_WRITE_REJECTED,
    message: `Forbidden: ${quota}`,
  });
  const invalid = rejectedOutcome(
    "Invalid",
    'Secret "a" is invalid: data[k]: Invalid value: "c2VjcmV0": bad',
  );
  assert.equal(invalid.message, 'Invalid: Secret "a" is invalid: data[k]: Invalid value: bad');
  const long = rejectedOutcome("Invalid", "x".repeat(1000)).message;
  assert.equal(long.length, 256);
  assert.ok(long.endsWith("…"));
});
