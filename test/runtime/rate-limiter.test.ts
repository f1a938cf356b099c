import assert from "node:assert/strict";
import { test } from "node:test";
import type { RateLimiter } from "../../src/runtime/rate-limiter.ts";
import { createRateLimiter } from "../../src/runtime/rate-limiter.ts";
import type { FakeClock } from "./fake-clock.ts";
import { fakeClock, flush } from "./fake-clock.ts";

// Starts `count` takes and records, in the order they resolve, which take it was and when.
function takeMany(limiter: RateLimiter, clock: FakeClock, count: number): [number, number][] {
  const granted: [number, number][] = [];
  for (let i = 0; i < count; i++) void limiter.take().then(() => granted.push([i, clock.now()]));
  return granted;
}

test("a burst passes at once, then takers are served one interval apart in call order", async () => {
  const clock = fakeClock();
  const granted = takeMany(createRateLimiter({ qps: 10, burst: 2, clock }), clock, 5);
  await flush();
  assert.deepEqual(granted, [
    [0, 0],
    [1, 0],
  ]);
  await clock.advance(99);
  assert.equal(granted.length, 2);
  await clock.advance(300);
  assert.deepEqual(granted, [
    [0, 0],
    [1, 0],
    [2, 100],
    [3, 200],
    [4, 300],
  ]);
});

test("tokens refill while idle but never beyond the burst", async () => {
  const clock = fakeClock();
  const limiter = createRateLimiter({ qps: 10, burst: 2, clock });
  takeMany(limiter, clock, 2);
  await clock.advance(1000);
  const granted = takeMany(limiter, clock, 3);
  await clock.advance(100);
  assert.deepEqual(granted, [
    [0, 1000],
    [1, 1000],
    [2, 1100],
  ]);
});

test("a partly refilled token shortens the wait", async () => {
  const clock = fakeClock();
  const limiter = createRateLimiter({ qps: 10, burst: 1, clock });
  takeMany(limiter, clock, 1);
  await clock.advance(40);
  const granted = takeMany(limiter, clock, 1);
  await clock.advance(59);
  assert.deepEqual(granted, []);
  await clock.advance(1);
  assert.deepEqual(granted, [[0, 100]]);
});

test("qps of zero or less means unlimited", async () => {
  for (const qps of [0, -1]) {
    const clock = fakeClock();
    const granted = takeMany(createRateLimiter({ qps, burst: 1, clock }), clock, 1000);
    await flush();
    assert.equal(granted.length, 1000);
  }
});
