// fanout: our controller started on empty placeholders, until every one is correct; rotate: the star
// source changes under it, until every placeholder holds the new password. Each run at a
// configuration follows a limit measurement at that configuration's concurrency ("x limit").
import { performance } from "node:perf_hooks";
import {
  changesSince,
  type Context,
  counters,
  cpuProfileArgs,
  fill,
  launch,
  log,
  planeCpuMs,
  reset,
  type Round,
  timeoutFor,
} from "../context.ts";
import { rotateStar } from "../fixtures.ts";
import type { Config } from "../options.ts";
import type { Row } from "../report.ts";
import type { Scenario } from "../scenario.ts";
import { codes, diff, median, sec } from "../stats.ts";

export interface Measured {
  ms: number;
  writes: number;
  writesByCode: Record<string, number>;
  placeholderChanges: number;
  exportChanges: number;
  cpuMs: number;
  planeCpuMs: number;
  rssMb: number;
  hwmMb: number;
}

export interface FanoutAndRotate {
  fanout: Measured & { cachesSyncedMs: number | undefined };
  rotate: Measured;
  log: string;
}

export async function fanoutAndRotate(
  ctx: Context,
  config: Config,
  profile: boolean,
): Promise<FanoutAndRotate> {
  const count = ctx.placeholders;
  await reset(ctx, 16);
  const before = counters(ctx);
  const planeBefore = await planeCpuMs(ctx);
  const controller = await launch(ctx, config.name, config.args, profile ? cpuProfileArgs(ctx) : []);
  try {
    const done = await ctx.tracker.allCorrect(count, timeoutFor(count, config));
    const fanoutMs = done - controller.startedAt;
    const planeDone = await planeCpuMs(ctx);
    const cachesSyncedMs = await controller.logMark("caches synced");
    const quiet = await controller.quiesce();
    const usage = await controller.usage();
    const fanout = {
      ms: fanoutMs,
      cachesSyncedMs,
      writes: quiet.writes,
      writesByCode: quiet.writesByCode,
      ...changesSince(ctx, before),
      ...usage,
      planeCpuMs: planeDone - planeBefore,
    };

    const rotateBefore = counters(ctx);
    ctx.generation++;
    ctx.tracker.expectGeneration(ctx.generation);
    const planeRotate = await planeCpuMs(ctx);
    const started = performance.now();
    await rotateStar(ctx.http, ctx.generation);
    const rotated = await ctx.tracker.allCorrect(count, timeoutFor(count, config));
    const planeRotated = await planeCpuMs(ctx);
    const after = await controller.quiesce();
    const usageAfter = await controller.usage();
    const rotate: Measured = {
      ms: rotated - started,
      writes: after.writes - quiet.writes,
      writesByCode: diff(after.writesByCode, quiet.writesByCode),
      ...changesSince(ctx, rotateBefore),
      cpuMs: usageAfter.cpuMs - usage.cpuMs,
      planeCpuMs: planeRotated - planeRotate,
      rssMb: usageAfter.rssMb,
      hwmMb: usageAfter.hwmMb,
    };
    ctx.snapshot = ctx.tracker.snapshot();
    log(
      `  ${config.name}: fanout ${sec(fanout.ms)} ${fanout.writes} writes; rotate ${sec(rotate.ms)} ${rotate.writes} writes; rss ${usageAfter.rssMb.toFixed(1)} MB`,
    );
    return { fanout, rotate, log: controller.logPath };
  } finally {
    await controller.stop();
  }
}

interface Run extends FanoutAndRotate {
  config: string;
  repetition: number;
  limitMs: number;
}

export const fanout: Scenario = {
  name: "fanout",
  async run(ctx: Context, { n }: Round) {
    const { configs, repeat, defaults } = ctx.options;
    const runs: Run[] = [];
    const rows: Row[] = [];
    for (let r = 1; r <= repeat; r++) {
      for (const config of configs) {
        log(`N=${n}: fanout+rotate ${config.name} #${r}: limit at concurrency ${config.concurrency} first`);
        await reset(ctx, config.concurrency);
        const { ms: limitMs } = await fill(ctx, config.concurrency);
        const run = await fanoutAndRotate(ctx, config, r === 1 && config === defaults && ctx.options.cpuProf);
        runs.push({ config: config.name, repetition: r, limitMs, ...run });
        rows.push(...rowsOf(n, `${config.name} #${r}`, run, limitMs));
      }
    }
    // Medians over the repetitions; "x limit" compares each run with the limit measured just before it.
    const summary = Object.fromEntries(
      configs.flatMap((c) => {
        const of = runs.filter((r) => r.config === c.name);
        const ratio = (m: (r: Run) => number) => median(of.map((r) => m(r) / r.limitMs));
        return [
          [`limitMs ${c.name}`, median(of.map((r) => r.limitMs))],
          [`fanoutMs ${c.name}`, median(of.map((r) => r.fanout.ms))],
          [`fanoutXLimit ${c.name}`, ratio((r) => r.fanout.ms)],
          [`rotateMs ${c.name}`, median(of.map((r) => r.rotate.ms))],
          [`rotateXLimit ${c.name}`, ratio((r) => r.rotate.ms)],
          [`fanoutCpuMs ${c.name}`, median(of.map((r) => r.fanout.cpuMs))],
        ];
      }),
    );
    return { rows, json: { runs }, summary };
  },
};

export function rowsOf(n: number, config: string, run: FanoutAndRotate, limitMs?: number): Row[] {
  return (
    [
      ["fanout", run.fanout],
      ["rotate", run.rotate],
    ] as const
  ).map(([scenario, m]) => ({
    n,
    scenario,
    config,
    timeMs: m.ms,
    limitMs,
    writes: m.writes,
    placeholderChanges: m.placeholderChanges,
    exportChanges: m.exportChanges,
    cpuMs: m.cpuMs,
    planeCpuMs: m.planeCpuMs,
    rssMb: m.rssMb,
    notes:
      scenario === "fanout" && run.fanout.cachesSyncedMs !== undefined
        ? `caches synced at ${sec(run.fanout.cachesSyncedMs)}; ${codes(m.writesByCode)}`
        : codes(m.writesByCode),
  }));
}
