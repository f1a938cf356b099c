import assert from "node:assert/strict";
import { test } from "node:test";
import type { Result } from "../../src/runtime/work-queue.ts";
import { createWorkQueue } from "../../src/runtime/work-queue.ts";
import type { FakeClock } from "./fake-clock.ts";
import { fakeClock, flush, settled } from "./fake-clock.ts";

interface ManualRun {
  key: string;
  done: boolean;
  finish(result?: Result): void;
  fail(err?: Error): void;
}

// A worker whose runs the test ends by hand; it records what ran and how much ran at once.
function manualWorker() {
  const runs: ManualRun[] = [];
  const open = () => runs.filter((run) => !run.done);
  let maxConcurrent = 0;
  let sameKeyOverlap = false;
  const worker = (key: string) =>
    new Promise<Result>((resolve, reject) => {
      sameKeyOverlap ||= open().some((run) => run.key === key);
      const run: ManualRun = {
        key,
        done: false,
        finish: (result = {}) => {
          run.done = true;
          resolve(result);
        },
        fail: (err = new Error(`${key} failed`)) => {
          run.done = true;
          reject(err);
        },
      };
      runs.push(run);
      maxConcurrent = Math.max(maxConcurrent, open().length);
    });
  return {
    worker,
    open,
    keys: () => runs.map((run) => run.key),
    get maxConcurrent() {
      return maxConcurrent;
    },
    get sameKeyOverlap() {
      return sameKeyOverlap;
    },
  };
}

async function finishOldest(w: ReturnType<typeof manualWorker>): Promise<void> {
  const run = w.open()[0];
  assert.ok(run, "a run is in flight");
  run.finish();
  await flush();
}

// A worker that answers each run of a key from a script and records when the run started.
function scriptedWorker(clock: FakeClock, outcome: (key: string, attempt: number) => Result | Error) {
  const starts: { key: string; at: number }[] = [];
  const timesOf = (key: string) => starts.filter((s) => s.key === key).map((s) => s.at);
  const worker = async (key: string): Promise<Result> => {
    const result = outcome(key, timesOf(key).length);
    starts.push({ key, at: clock.now() });
    if (result instanceof Error) throw result;
    return result;
  };
  return { worker, timesOf };
}

const boom = new Error("boom");

test("a key added many times while waiting runs once", async () => {
  const w = manualWorker();
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, clock: fakeClock() });
  q.add("a");
  q.add("b");
  q.add("b");
  q.add("b");
  assert.equal(q.depth(), 1);
  await finishOldest(w);
  await finishOldest(w);
  assert.deepEqual(w.keys(), ["a", "b"]);
});

test("a key added while it is being processed runs once more afterwards, never concurrently", async () => {
  const w = manualWorker();
  const q = createWorkQueue({ worker: w.worker, concurrency: 4, clock: fakeClock() });
  q.add("a");
  q.add("a");
  q.add("a");
  assert.deepEqual(w.keys(), ["a"]);
  assert.equal(q.depth(), 0);
  await finishOldest(w);
  assert.deepEqual(w.keys(), ["a", "a"]);
  await finishOldest(w);
  assert.deepEqual(w.keys(), ["a", "a"]);
  assert.equal(w.sameKeyOverlap, false);
});

test("distinct keys run in FIFO order and a re-added waiting key keeps its place", async () => {
  const w = manualWorker();
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, clock: fakeClock() });
  for (const key of ["x", "c", "a", "b", "c"]) q.add(key);
  while (w.open().length > 0) await finishOldest(w);
  assert.deepEqual(w.keys(), ["x", "c", "a", "b"]);
});

test("at most N keys run at once", async () => {
  const w = manualWorker();
  const q = createWorkQueue({ worker: w.worker, concurrency: 2, clock: fakeClock() });
  for (const key of ["k1", "k2", "k3", "k4", "k5"]) q.add(key);
  assert.deepEqual(w.keys(), ["k1", "k2"]);
  assert.equal(q.depth(), 3);
  while (w.open().length > 0) await finishOldest(w);
  assert.deepEqual(w.keys(), ["k1", "k2", "k3", "k4", "k5"]);
  assert.equal(w.maxConcurrent, 2);
});

test("a failing key backs off exponentially and resets after a success", async () => {
  const clock = fakeClock();
  const w = scriptedWorker(clock, (_key, attempt) => ([0, 1, 2, 4].includes(attempt) ? boom : {}));
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, clock });
  q.add("a");
  await clock.advance(34);
  assert.deepEqual(w.timesOf("a"), [0, 5, 15]);
  assert.equal(q.retries("a"), 3);
  await clock.advance(1000);
  assert.deepEqual(w.timesOf("a"), [0, 5, 15, 35]);
  assert.equal(q.retries("a"), 0);
  q.add("a");
  await clock.advance(100);
  assert.deepEqual(w.timesOf("a"), [0, 5, 15, 35, 1034, 1039]);
});

test("the backoff delay is capped", async () => {
  const clock = fakeClock();
  const w = scriptedWorker(clock, () => boom);
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, baseDelayMs: 5, maxDelayMs: 20, clock });
  q.add("a");
  await clock.advance(80);
  assert.deepEqual(w.timesOf("a"), [0, 5, 15, 35, 55, 75]);
});

test("each key backs off on its own", async () => {
  const clock = fakeClock();
  const w = scriptedWorker(clock, () => boom);
  const q = createWorkQueue({ worker: w.worker, concurrency: 2, clock });
  q.add("a");
  await clock.advance(15);
  q.add("b");
  await clock.advance(25);
  assert.deepEqual(w.timesOf("a"), [0, 5, 15, 35]);
  assert.deepEqual(w.timesOf("b"), [15, 20, 30]);
});

test("requeueAfter runs the key again after the delay and is not a retry", async () => {
  const clock = fakeClock();
  const w = scriptedWorker(clock, (_key, attempt) => (attempt === 0 ? { requeueAfterMs: 100 } : {}));
  const retried: string[] = [];
  const outcomes: string[] = [];
  const q = createWorkQueue({
    worker: w.worker,
    concurrency: 1,
    clock,
    hooks: { retried: (key) => retried.push(key), processed: (_key, outcome) => outcomes.push(outcome) },
  });
  q.add("a");
  await clock.advance(99);
  assert.deepEqual(w.timesOf("a"), [0]);
  await clock.advance(1000);
  assert.deepEqual(w.timesOf("a"), [0, 100]);
  assert.deepEqual(retried, []);
  assert.equal(q.retries("a"), 0);
  assert.deepEqual(outcomes, ["requeue_after", "success"]);
});

test("a requeueAfter result resets the backoff", async () => {
  const clock = fakeClock();
  const script = [boom, { requeueAfterMs: 100 }, boom, {}];
  const w = scriptedWorker(clock, (_key, attempt) => script[attempt] ?? {});
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, clock });
  q.add("a");
  await clock.advance(500);
  assert.deepEqual(w.timesOf("a"), [0, 5, 105, 110]);
});

test("a normal add before a delayed requeue runs the key at once and only once", async () => {
  const clock = fakeClock();
  const w = scriptedWorker(clock, () => ({}));
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, clock });
  q.addAfter("a", 100);
  await clock.advance(10);
  assert.deepEqual(w.timesOf("a"), []);
  q.add("a");
  await clock.advance(500);
  assert.deepEqual(w.timesOf("a"), [10]);
});

test("a normal add during error backoff runs the key at once and replaces the retry", async () => {
  const clock = fakeClock();
  const w = scriptedWorker(clock, (_key, attempt) => (attempt === 0 ? boom : {}));
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, baseDelayMs: 100, clock });
  q.add("a");
  await clock.advance(10);
  q.add("a");
  await clock.advance(500);
  assert.deepEqual(w.timesOf("a"), [0, 10]);
  assert.equal(q.retries("a"), 0);
});

test("of two delayed requeues of one key the earlier wins", async () => {
  const clock = fakeClock();
  const w = scriptedWorker(clock, () => ({}));
  const q = createWorkQueue({ worker: w.worker, concurrency: 2, clock });
  q.addAfter("a", 100);
  q.addAfter("a", 50);
  q.addAfter("b", 50);
  q.addAfter("b", 100);
  await clock.advance(300);
  assert.deepEqual(w.timesOf("a"), [50]);
  assert.deepEqual(w.timesOf("b"), [50]);
});

test("a delayed requeue of a key that is already due is dropped", async () => {
  const clock = fakeClock();
  const w = manualWorker();
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, clock });
  q.add("running");
  q.add("waiting");
  q.addAfter("waiting", 50);
  q.add("running");
  w.open()[0]?.finish({ requeueAfterMs: 50 });
  await flush();
  while (w.open().length > 0) await finishOldest(w);
  await clock.advance(100);
  assert.deepEqual(w.keys(), ["running", "waiting", "running"]);
});

test("shutdown waits for in-flight work and drops waiting keys", async () => {
  const clock = fakeClock();
  const w = manualWorker();
  const retried: string[] = [];
  const q = createWorkQueue({
    worker: w.worker,
    concurrency: 1,
    clock,
    hooks: { retried: (key) => retried.push(key) },
  });
  q.add("a");
  q.add("b");
  q.addAfter("c", 10);
  q.add("a");
  const stopped = q.shutdown();
  assert.equal(await settled(stopped), false);
  assert.equal(q.depth(), 0);
  assert.equal(clock.pendingTimers(), 0, "no timer keeps the process alive");
  q.add("d");
  w.open()[0]?.fail();
  assert.equal(await settled(stopped), true);
  await clock.advance(1000);
  assert.deepEqual(w.keys(), ["a"]);
  assert.deepEqual(retried, [], "a run failing during shutdown is not retried");
});

test("a worker error does not produce an unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const clock = fakeClock();
    const reported: [string, string, unknown][] = [];
    const thrown = new Error("thrown");
    const rejected = new Error("rejected");
    const q = createWorkQueue({
      worker: (key) => {
        if (key === "sync") throw thrown;
        return Promise.reject(rejected);
      },
      concurrency: 2,
      clock,
      hooks: { processed: (key, outcome, _ms, error) => reported.push([key, outcome, error]) },
    });
    q.add("sync");
    q.add("async");
    await flush();
    await flush();
    assert.deepEqual(unhandled, []);
    assert.deepEqual(reported, [
      ["sync", "error", thrown],
      ["async", "error", rejected],
    ]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("hooks report adds, depth, retries, durations and results", async () => {
  const clock = fakeClock();
  const w = manualWorker();
  const events: unknown[][] = [];
  const q = createWorkQueue({
    worker: w.worker,
    concurrency: 1,
    clock,
    hooks: {
      added: (key) => events.push(["added", key]),
      depth: (depth) => events.push(["depth", depth]),
      retried: (key, retries) => events.push(["retried", key, retries]),
      processed: (key, outcome, ms, error) => events.push(["processed", key, outcome, ms, error]),
    },
  });
  q.add("a");
  q.add("b");
  q.add("b");
  await clock.advance(30);
  const failure = new Error("a failed");
  w.open()[0]?.fail(failure);
  await flush();
  await clock.advance(5);
  w.open()[0]?.finish({ requeueAfterMs: 50 });
  await flush();
  await finishOldest(w);
  assert.deepEqual(events, [
    ["added", "a"],
    ["depth", 1],
    ["depth", 0],
    ["added", "b"],
    ["depth", 1],
    ["retried", "a", 1],
    ["processed", "a", "error", 30, failure],
    ["depth", 0],
    ["added", "a"],
    ["depth", 1],
    ["processed", "b", "requeue_after", 5, undefined],
    ["depth", 0],
    ["processed", "a", "success", 0, undefined],
  ]);
});

test("drained resolves once nothing is waiting or running, not counting delayed keys", async () => {
  const w = manualWorker();
  const q = createWorkQueue({ worker: w.worker, concurrency: 1, clock: fakeClock() });
  assert.equal(await settled(q.drained()), true);
  q.addAfter("later", 1000);
  assert.equal(await settled(q.drained()), true);
  q.add("a");
  q.add("b");
  const idle = q.drained();
  await finishOldest(w);
  assert.equal(await settled(idle), false);
  await finishOldest(w);
  assert.equal(await settled(idle), true);
});

test("delayedKeys lists the keys waiting out a delay: addAfter, requeueAfter and retry backoff", async () => {
  const clock = fakeClock();
  const w = manualWorker();
  const q = createWorkQueue({ worker: w.worker, concurrency: 2, baseDelayMs: 50, clock });
  q.addAfter("later", 1000);
  q.add("poll");
  q.add("fails");
  assert.deepEqual(q.delayedKeys(), ["later"]);
  w.open()[0]?.finish({ requeueAfterMs: 100 });
  w.open()[0]?.fail();
  await flush();
  assert.deepEqual(q.delayedKeys().sort(), ["fails", "later", "poll"]);
  q.add("later");
  assert.deepEqual(q.delayedKeys().sort(), ["fails", "poll"], "a normal add cancels the delay");
  await clock.advance(100);
  assert.deepEqual(q.delayedKeys(), [], "due keys leave the delayed set as they run");
  for (const run of w.open()) run.finish();
  await q.shutdown();
});
