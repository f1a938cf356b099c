import assert from "node:assert/strict";
import { test } from "node:test";
import { createRewriteBackoff } from "../../src/runtime/rewrite-backoff.ts";

function clockAt(start = 0) {
  let now = start;
  return { now: () => now, set: (ms: number) => (now = ms) };
}

test("new content is written at once, however recent the previous write", () => {
  const clock = clockAt();
  const backoff = createRewriteBackoff({ clock });
  assert.equal(backoff.delay("ns/pull", "a"), 0);
  backoff.wrote("ns/pull", "a");
  assert.equal(backoff.delay("ns/pull", "b"), 0);
  backoff.wrote("ns/pull", "b");
  assert.equal(backoff.delay("ns/pull", "c"), 0);
  assert.equal(backoff.delay("ns/other", "b"), 0, "keys are independent");
});

test("rewriting the same content against a continuous other writer waits 1 s, 2 s, 4 s, ... up to the cap", () => {
  const clock = clockAt(100_000);
  const backoff = createRewriteBackoff({ baseMs: 1_000, maxMs: 8_000, clock });
  backoff.wrote("ns/pull", "good");
  // The other writer changes the object at once, every time: each rewrite is allowed only when due.
  const allowedAt: number[] = [];
  for (let t = 100_000; t <= 130_000; t += 10) {
    clock.set(t);
    if (backoff.delay("ns/pull", "good") === 0) {
      backoff.wrote("ns/pull", "good");
      allowedAt.push(t - 100_000);
    }
  }
  assert.deepEqual(allowedAt, [1_000, 3_000, 7_000, 15_000, 23_000]);
  clock.set(100_000 + 23_500);
  assert.equal(backoff.delay("ns/pull", "good"), 7_500, "the wait is reported, for a requeue");
});

test("a one-off edit long after the last write is restored at once, and the streak starts again", () => {
  const clock = clockAt();
  const backoff = createRewriteBackoff({ baseMs: 1_000, maxMs: 8_000, clock });
  backoff.wrote("ns/pull", "good");
  clock.set(500);
  assert.equal(backoff.delay("ns/pull", "good"), 500);
  clock.set(1_000);
  backoff.wrote("ns/pull", "good");
  clock.set(3_000);
  backoff.wrote("ns/pull", "good"); // two rewrites in a row: the next one would wait 4 s
  clock.set(3_000 + 8_001);
  assert.equal(backoff.delay("ns/pull", "good"), 0);
  backoff.wrote("ns/pull", "good");
  clock.set(3_000 + 8_001 + 10);
  assert.equal(backoff.delay("ns/pull", "good"), 990, "back to the first step");
});

test("a forgotten key (its object deleted and made again) is written at once", () => {
  const clock = clockAt();
  const backoff = createRewriteBackoff({ clock });
  backoff.wrote("ns/pull", "good");
  backoff.forget("ns/pull");
  assert.equal(backoff.delay("ns/pull", "good"), 0);
});

test("each write held back is reported, and only those", () => {
  const clock = clockAt();
  let reported = 0;
  const backoff = createRewriteBackoff({ clock, onDelay: () => reported++ });
  backoff.wrote("ns/pull", "good");
  assert.equal(backoff.delay("ns/pull", "other"), 0);
  assert.equal(reported, 0, "new content is not held back");
  assert.ok(backoff.delay("ns/pull", "good") > 0);
  assert.equal(reported, 1);
  clock.set(60_000);
  assert.equal(backoff.delay("ns/pull", "good"), 0);
  assert.equal(reported, 1, "a rewrite that is due is not held back");
});
