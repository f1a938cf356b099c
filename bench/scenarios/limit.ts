// limit: the API server's own write throughput. A minimal client makes the same merge patches the
// controller makes (from the snapshot of the last filled placeholders) at each concurrency of the sweep.
import { type Context, fill, log, reset, type Round } from "../context.ts";
import type { Row } from "../report.ts";
import type { Scenario } from "../scenario.ts";
import { median, sec } from "../stats.ts";

interface Sample {
  resetMs: number[];
  fillMs: number[];
  planeCpuMs: number[];
}

export const limit: Scenario = {
  name: "limit",
  async run(ctx: Context, { n }: Round) {
    const { limitConcurrency } = ctx.options;
    log(`N=${n}: limit sweep over concurrency ${limitConcurrency.join(", ")}`);
    const sweep: Record<number, Sample> = {};
    for (const c of limitConcurrency) {
      const resetMs = await reset(ctx, c);
      const filled = await fill(ctx, c);
      sweep[c] = { resetMs: [resetMs], fillMs: [filled.ms], planeCpuMs: [filled.planeCpuMs] };
    }
    const rows: Row[] = Object.entries(sweep).map(([c, s]) => {
      const ms = median(s.fillMs);
      return {
        n,
        scenario: "limit",
        config: `concurrency ${c}`,
        writes: ctx.placeholders,
        timeMs: ms,
        planeCpuMs: median(s.planeCpuMs),
        notes: `${Math.round((ctx.placeholders * 1000) / ms)} writes/s (reset ${sec(median(s.resetMs))})`,
      };
    });
    return { rows, json: { limitSweep: sweep }, summary: {} };
  },
};
