// Virtual time for the runtime tests: timers fire only when a test advances the clock.
import type { Clock } from "../../src/runtime/work-queue.ts";

export interface FakeClock extends Clock {
  /** Moves time forward, firing due timers in due order and letting promises settle after each. */
  advance(ms: number): Promise<void>;
  /** Timers set and neither fired nor cleared. */
  pendingTimers(): number;
}

/** Lets every pending promise continuation run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Whether the promise has settled once pending continuations ran; awaiting it directly would hang a failing test. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await flush();
  return done;
}

interface Timer {
  due: number;
  fn: () => void;
}

export function fakeClock(): FakeClock {
  let now = 0;
  let lastId = 0;
  const timers = new Map<number, Timer>();

  // Map order is creation order, so timers due at the same time fire in the order they were set.
  function nextDue(until: number): [number, Timer] | undefined {
    let next: [number, Timer] | undefined;
    for (const entry of timers) {
      if (entry[1].due <= until && (!next || entry[1].due < next[1].due)) next = entry;
    }
    return next;
  }

  return {
    now: () => now,
    setTimeout(fn, ms) {
      timers.set(++lastId, { due: now + Math.max(ms, 0), fn });
      return lastId;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    pendingTimers: () => timers.size,
    async advance(ms) {
      const end = now + ms;
      await flush();
      for (let next = nextDue(end); next; next = nextDue(end)) {
        const [id, timer] = next;
        timers.delete(id);
        now = timer.due;
        timer.fn();
        await flush();
      }
      now = end;
    },
  };
}
