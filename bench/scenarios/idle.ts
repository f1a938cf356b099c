// idle: a restart over the converged cluster, then one periodic resync (writes, CPU, duration).
// noise: unrelated Secrets created while the controller runs; its RSS before and in a fresh process.
// churn: namespaces created with a placeholder each while the controller runs; creation to filled.
// The three share controllers, each a fresh process with the defaults.
import { performance } from "node:perf_hooks";
import { inPool, range } from "../client.ts";
import type { ControllerUnderTest, Usage } from "../controller.ts";
import {
  changesSince,
  type Context,
  counters,
  heapSnapshotArgs,
  launch,
  log,
  type Round,
  until,
} from "../context.ts";
import {
  createBenchNamespace,
  createNoise,
  deleteNoise,
  NOISE_NAMESPACES,
  placeholderKey,
  SETUP_CONCURRENCY,
} from "../fixtures.ts";
import type { Row } from "../report.ts";
import type { Scenario } from "../scenario.ts";
import { codes, diff, percentile, sec, signed } from "../stats.ts";

const CHURN_NAMESPACES = 200;
const CHURN_CONCURRENCY = 8;
const RESYNC_PERIOD_S = 10;

export const idle: Scenario = {
  name: "idle",
  async run(ctx: Context, { n, last }: Round) {
    log(`N=${n}: idle (restart over converged state, then one periodic resync)`);
    const rows: Row[] = [];
    const measured = await idleAndNoise(ctx, rows, n);
    const json: Record<string, unknown> = { ...measured };
    if (!last) {
      log(`N=${n}: deleting the noise Secrets for the next round`);
      const started = performance.now();
      await inPool(range(0, NOISE_NAMESPACES), 8, (i) => deleteNoise(ctx.http, i));
      json.noiseDeleteMs = performance.now() - started;
    }
    const summary = {
      rssMb: measured.idle.rssMb,
      restartPeakMb: measured.idle.hwmMb,
      rssNoiseMb: measured.noise.rssFreshMb,
      resyncCpuMs: measured.idle.resync.cpuMs,
      churnP99Ms: measured.churn.p99Ms,
    };
    return { rows, json, summary };
  },
};

/** idle, noise and churn share controllers: each is measured on a fresh process with the defaults. */
async function idleAndNoise(ctx: Context, rows: Row[], n: number) {
  const { noiseSecrets, heapSnapshot } = ctx.options;
  const idleController = await launch(ctx, "idle", ["--resync-period", String(RESYNC_PERIOD_S)]);
  let idle;
  let noise;
  try {
    const reconcilingMs = await waitForMark(idleController, "reconciling");
    const startup = await idleController.quiesce();
    const settled = await settledUsage(idleController);
    const resync = await measureResync(idleController, reconcilingMs, ctx.placeholders);
    idle = {
      cachesSyncedMs: await idleController.logMark("caches synced"),
      startupWrites: startup.writes,
      rssMb: settled.rssMb,
      hwmMb: settled.hwmMb,
      startupCpuMs: settled.cpuMs,
      resync,
    };
    rows.push({
      n,
      scenario: "idle",
      config: "defaults",
      timeMs: resync.ms,
      writes: resync.writes,
      cpuMs: resync.cpuMs,
      rssMb: settled.rssMb,
      notes: `one resync of ${resync.reconciles} keys; writes on restart ${startup.writes}`,
    });

    log(`N=${n}: noise: creating ${noiseSecrets} unrelated Secrets while the controller runs`);
    const before = await idleController.scrape();
    const started = performance.now();
    await createNoise(ctx.http, noiseSecrets, SETUP_CONCURRENCY);
    const createMs = performance.now() - started;
    const quiet = await idleController.quiesce();
    const live = await settledUsage(idleController);
    noise = {
      createMs,
      writesWhileCreated: quiet.writes - before.writes,
      rssBeforeMb: settled.rssMb,
      rssLiveMb: live.rssMb,
      rssFreshMb: 0,
      hwmFreshMb: 0,
      cachesSyncedMs: undefined as number | undefined,
      startupWrites: 0,
    };
  } finally {
    await idleController.stop();
  }

  const noiseController = await launch(ctx, "noise", [], heapSnapshotArgs(ctx));
  let churn;
  try {
    await waitForMark(noiseController, "reconciling");
    const startup = await noiseController.quiesce();
    const fresh = await settledUsage(noiseController);
    if (heapSnapshot) process.kill(noiseController.pid, "SIGUSR2");
    noise.rssFreshMb = fresh.rssMb;
    noise.hwmFreshMb = fresh.hwmMb;
    noise.cachesSyncedMs = await noiseController.logMark("caches synced");
    noise.startupWrites = startup.writes;
    rows.push({
      n,
      scenario: "noise",
      config: "defaults",
      writes: noise.writesWhileCreated + startup.writes,
      rssMb: fresh.rssMb,
      notes:
        `RSS ${noise.rssBeforeMb.toFixed(1)} → ${fresh.rssMb.toFixed(1)} MB fresh ` +
        `(${signed(fresh.rssMb - noise.rssBeforeMb)}), ${noise.rssLiveMb.toFixed(1)} MB live; ` +
        `caches synced at ${sec(noise.cachesSyncedMs)}; created in ${sec(noise.createMs)}`,
    });

    log(`N=${n}: churn: ${CHURN_NAMESPACES} namespaces with a placeholder each`);
    const before = counters(ctx);
    const scrapeBefore = await noiseController.scrape();
    const indexes = range(ctx.placeholders, ctx.placeholders + CHURN_NAMESPACES);
    const created = new Map<number, number>();
    const started = performance.now();
    await inPool(indexes, CHURN_CONCURRENCY, async (i) => {
      await createBenchNamespace(ctx.http, i);
      created.set(i, performance.now());
    });
    const createMs = performance.now() - started;
    ctx.placeholders += CHURN_NAMESPACES;
    await ctx.tracker.allCorrect(ctx.placeholders, 120_000);
    const after = await noiseController.quiesce();
    const latencies = indexes
      .map((i) => (ctx.tracker.becameCorrectAt(placeholderKey(i)) ?? NaN) - (created.get(i) ?? NaN))
      .sort((a, b) => a - b);
    const changes = changesSince(ctx, before);
    churn = {
      createMs,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      writes: after.writes - scrapeBefore.writes,
      writesByCode: diff(after.writesByCode, scrapeBefore.writesByCode),
      ...changes,
    };
    rows.push({
      n,
      scenario: "churn",
      config: "defaults",
      timeMs: churn.p99Ms,
      writes: churn.writes,
      placeholderChanges: changes.placeholderChanges,
      exportChanges: changes.exportChanges,
      notes: `p50 ${sec(churn.p50Ms)} p99 ${sec(churn.p99Ms)} max ${sec(churn.maxMs)} (created in ${sec(createMs)}); ${codes(churn.writesByCode)}`,
    });
  } finally {
    await noiseController.stop();
  }
  return { idle, noise, churn };
}

/** CPU and memory once the process has been quiet for a while (V8 settles its heap after a burst). */
export async function settledUsage(controller: ControllerUnderTest): Promise<Usage> {
  // The lowest RSS over 10 quiet seconds: a single reading varies by ±10 MB between processes with
  // the garbage V8 has not yet collected, which would swamp the few MB being compared.
  let lowest = await controller.usage();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await controller.usage();
    lowest = { ...now, rssMb: Math.min(lowest.rssMb, now.rssMb) };
  }
  return lowest;
}

/**
 * The periodic resync fires every RESYNC_PERIOD_S after "reconciling". CPU is read from /proc every
 * 20 ms from a second before it fires (without scraping, which costs the controller CPU), and the
 * resync counts as done when CPU stays flat for half a second; then writes and reconciles are scraped.
 */
async function measureResync(controller: ControllerUnderTest, reconcilingMs: number, placeholders: number) {
  const periodMs = RESYNC_PERIOD_S * 1000;
  const sinceStart = () => performance.now() - controller.startedAt;
  let fire = reconcilingMs + periodMs;
  while (fire - sinceStart() < 1_500) fire += periodMs;
  await new Promise((r) => setTimeout(r, fire - sinceStart() - 1_000));
  const before = await controller.scrape();
  const baselineStart = await controller.usage();
  await new Promise((r) => setTimeout(r, 900));
  const baselineEnd = await controller.usage();
  let lastCpu = baselineEnd.cpuMs;
  let lastChange = 0;
  const giveUpAt = fire + periodMs - 1_000;
  while (sinceStart() < giveUpAt) {
    await new Promise((r) => setTimeout(r, 20));
    const { cpuMs } = await controller.usage();
    if (cpuMs !== lastCpu) {
      lastCpu = cpuMs;
      lastChange = sinceStart();
    }
    if (lastChange > fire && sinceStart() - lastChange >= 500) break;
  }
  const after = await controller.scrape();
  const idleRate = (baselineEnd.cpuMs - baselineStart.cpuMs) / 900;
  return {
    ms: Math.max(0, lastChange - fire),
    cpuMs: lastCpu - baselineEnd.cpuMs - idleRate * Math.max(0, lastChange - fire),
    writes: after.writes - before.writes,
    reconciles: after.reconciles - before.reconciles,
    placeholders,
  };
}

export async function waitForMark(controller: ControllerUnderTest, message: string): Promise<number> {
  let at: number | undefined;
  await until(
    () => at !== undefined,
    120_000,
    `controller logs "${message}"`,
    async () => {
      at = await controller.logMark(message);
    },
  );
  return at ?? 0;
}
