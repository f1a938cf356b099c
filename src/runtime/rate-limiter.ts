// A client-side token bucket for API writes: `burst` takes pass at once, then one every 1/qps seconds,
// served in call order. qps <= 0 means unlimited.
import type { Clock } from "./work-queue.ts";
import { realClock } from "./work-queue.ts";

export interface RateLimiterOptions {
  qps: number;
  burst: number;
  clock?: Clock;
}

export interface RateLimiter {
  take(): Promise<void>;
}

export function createRateLimiter({ qps, burst, clock = realClock }: RateLimiterOptions): RateLimiter {
  if (qps <= 0) return { take: () => Promise.resolve() };
  // Tokens go negative while takers wait: each taker reserves the next token, so every wait is one
  // interval longer than the one before and call order is kept without a queue.
  let tokens = burst;
  let last = clock.now();
  function take(): Promise<void> {
    const now = clock.now();
    tokens = Math.min(burst, tokens + ((now - last) * qps) / 1000) - 1;
    last = now;
    if (tokens >= 0) return Promise.resolve();
    const waitMs = Math.ceil((-tokens * 1000) / qps);
    return new Promise((resolve) => clock.setTimeout(resolve, waitMs));
  }
  return { take };
}
