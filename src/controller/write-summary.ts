// Successful writes are counted here and logged as one info line per period: a line per object at
// 20,000 placeholders is a measurable share of the controller's CPU. Per-object lines are debug.
import type { Logger } from "pino";

/** How often the summary line is written, when anything was written. */
export const WRITE_SUMMARY_PERIOD_MS = 10_000;

export interface WriteSummary {
  /** One successful write of this kind of object, e.g. "placeholder". */
  count(kind: string): void;
  /** Logs and resets the counts, if any. */
  flush(): void;
}

export function writeSummary(log: Logger): WriteSummary {
  let counts: Record<string, number> = {};
  let any = false;
  return {
    count(kind) {
      counts[kind] = (counts[kind] ?? 0) + 1;
      any = true;
    },
    flush() {
      if (!any) return;
      log.info({ written: counts }, "objects written");
      counts = {};
      any = false;
    },
  };
}
