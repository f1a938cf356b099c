// A keyed, de-duplicating work queue with controller-runtime semantics: a key waits at most once, never
// runs twice at the same time, backs off exponentially on failure (reset on success), and can be
// requeued after a delay for polling. A key has at most one pending run: the earliest requested wins.

/** The time seam: tests pass a virtual clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Result {
  /** Run the key again after this delay: deliberate polling, not an error retry. */
  requeueAfterMs?: number;
}

export type Outcome = "success" | "error" | "requeue_after";

/** Events for metrics. Hooks must not throw. */
export interface WorkQueueHooks {
  /** The number of keys ready to run changed. */
  depth?(depth: number): void;
  /** A key became pending; adding a key that is already pending is not counted. */
  added?(key: string): void;
  /** A failed key is scheduled for retry; `retries` counts its failures since its last success. */
  retried?(key: string, retries: number): void;
  processed?(key: string, outcome: Outcome, durationMs: number, error?: unknown): void;
}

export interface WorkQueueOptions {
  worker: (key: string) => Promise<Result>;
  concurrency: number;
  /** The first retry delay; it doubles with every further failure. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Overrides the backoff delay for a failure (a rejection retried slowly, a 429's Retry-After). */
  retryDelayMs?(error: unknown, backoffMs: number): number | undefined;
  clock?: Clock;
  hooks?: WorkQueueHooks;
}

export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
  /** Failures of the key since its last success. */
  retries(key: string): number;
  /** Keys ready to run, not counting running or delayed ones. */
  depth(): number;
  /** Resolves when no key is ready or running; delayed keys do not count. */
  drained(): Promise<void>;
  /** Keys waiting out a delay (addAfter, requeueAfter or a retry backoff). */
  delayedKeys(): string[];
  /** Stops taking work, drops pending keys and timers, resolves when in-flight runs have finished. */
  shutdown(): Promise<void>;
}

export function createWorkQueue({
  worker,
  concurrency,
  baseDelayMs = 5,
  maxDelayMs = 300_000,
  retryDelayMs = () => undefined,
  clock = realClock,
  hooks = {},
}: WorkQueueOptions): WorkQueue {
  const ready = new Set<string>(); // insertion order is the FIFO order
  const running = new Set<string>();
  const dirty = new Set<string>(); // added while running: runs again once the current run ends
  const delayed = new Map<string, { due: number; handle: unknown }>();
  const failures = new Map<string, number>();
  const idleWaiters: (() => void)[] = [];
  let stopped = false;

  function add(key: string): void {
    if (stopped) return;
    cancelDelayed(key);
    if (ready.has(key) || dirty.has(key)) return;
    hooks.added?.(key);
    if (running.has(key)) {
      dirty.add(key);
      return;
    }
    ready.add(key);
    hooks.depth?.(ready.size);
    pump();
  }

  function addAfter(key: string, ms: number): void {
    if (ms <= 0) {
      add(key);
      return;
    }
    if (stopped || ready.has(key) || dirty.has(key)) return;
    const due = clock.now() + ms;
    const current = delayed.get(key);
    if (current && current.due <= due) return;
    cancelDelayed(key);
    const handle = clock.setTimeout(() => {
      delayed.delete(key);
      add(key);
    }, ms);
    delayed.set(key, { due, handle });
  }

  function cancelDelayed(key: string): void {
    const entry = delayed.get(key);
    if (!entry) return;
    clock.clearTimeout(entry.handle);
    delayed.delete(key);
  }

  function pump(): void {
    for (const key of ready) {
      if (running.size >= concurrency) return;
      ready.delete(key);
      running.add(key);
      hooks.depth?.(ready.size);
      void run(key);
    }
  }

  // Never rejects: a worker failure becomes a retry and a hook event.
  async function run(key: string): Promise<void> {
    const start = clock.now();
    let outcome: Outcome;
    let error: unknown;
    try {
      const after = (await worker(key)).requeueAfterMs ?? 0;
      failures.delete(key);
      outcome = after > 0 ? "requeue_after" : "success";
      if (after > 0) addAfter(key, after);
    } catch (err) {
      outcome = "error";
      error = err;
      retry(key, err);
    }
    hooks.processed?.(key, outcome, clock.now() - start, error);
    finish(key);
  }

  // Scheduled while the key is still running, so a run already due (dirty) wins over the delay.
  function retry(key: string, error: unknown): void {
    if (stopped) return;
    const previous = failures.get(key) ?? 0;
    failures.set(key, previous + 1);
    hooks.retried?.(key, previous + 1);
    const backoff = Math.min(baseDelayMs * 2 ** previous, maxDelayMs);
    addAfter(key, retryDelayMs(error, backoff) ?? backoff);
  }

  function finish(key: string): void {
    running.delete(key);
    if (dirty.delete(key)) {
      ready.add(key);
      hooks.depth?.(ready.size);
    }
    pump();
    notifyIfIdle();
  }

  function notifyIfIdle(): void {
    if (ready.size > 0 || running.size > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  }

  function drained(): Promise<void> {
    const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
    notifyIfIdle();
    return idle;
  }

  function shutdown(): Promise<void> {
    stopped = true;
    for (const { handle } of delayed.values()) clock.clearTimeout(handle);
    delayed.clear();
    dirty.clear();
    if (ready.size > 0) {
      ready.clear();
      hooks.depth?.(0);
    }
    return drained();
  }

  return {
    add,
    addAfter,
    retries: (key) => failures.get(key) ?? 0,
    depth: () => ready.size,
    drained,
    delayedKeys: () => [...delayed.keys()],
    shutdown,
  };
}
