// `npm run bench`: the controller against its own local control plane, scenario by scenario, compared
// with what the API server itself can do (the "limit" scenario). Prints a table and writes JSON.
//
//   npm run bench -- [--namespaces 2000] [--series] [--sizes 500,1000,2000,5000] [--repeat 2]
//                    [--out bench-results.json] [--config NAME=ARGS]... [--limit-concurrency 1,4,16]
//                    [--noise 20000] [--cpu-prof] [--heap-snapshot] [--node-options "..."]
//                    [--hostile-only]
//
// See docs/benchmark.md for what each scenario measures and how to read the table.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs, promisify } from "node:util";
import { type ControlPlane, startControlPlane } from "../dev/control-plane.ts";
import { parseConfig } from "../src/config.ts";
import { type BenchClient, benchClient, inPool, range, withRetry } from "./client.ts";
import { type ControllerUnderTest, startController, type Usage } from "./controller.ts";
import {
  benchNamespace,
  createBenchNamespace,
  createExports,
  createNoise,
  deleteNoise,
  fillPatch,
  installCrds,
  NOISE_NAMESPACES,
  placeholderKey,
  resetPatch,
  rotateStar,
  secretPath,
  SETUP_CONCURRENCY,
} from "./fixtures.ts";
import { hostile } from "./hostile.ts";
import { type Row, printRows, printSeries } from "./report.ts";
import { startTracker, type Tracker } from "./tracker.ts";

const root = resolve(import.meta.dirname, "..");
const CHURN_NAMESPACES = 200;
const CHURN_CONCURRENCY = 8;
const RESYNC_PERIOD_S = 10;
const MERGE_PATCH = "application/merge-patch+json";
const CLOCK_TICKS_PER_SECOND = 100;

interface Config {
  name: string;
  args: string[];
  concurrency: number;
  qps: number;
  burst: number;
}

const { values: flags } = parseArgs({
  options: {
    namespaces: { type: "string", default: "2000" },
    series: { type: "boolean", default: false },
    sizes: { type: "string", default: "500,1000,2000,5000" },
    repeat: { type: "string" },
    out: { type: "string", default: "bench-results.json" },
    config: { type: "string", multiple: true },
    "limit-concurrency": { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "heap-snapshot": { type: "boolean", default: false },
    "node-options": { type: "string" },
    noise: { type: "string", default: "20000" },
    "hostile-only": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (flags.help) {
  console.log(
    "usage: npm run bench -- [--namespaces N | --series [--sizes 500,1000,2000,5000]] [--repeat R]\n" +
      "                        [--out FILE] [--config NAME=CONTROLLER_ARGS]... [--limit-concurrency 1,4,16]\n" +
      "                        [--noise 20000] [--cpu-prof] [--heap-snapshot] [--node-options OPTIONS]\n" +
      "                        [--hostile-only]",
  );
  process.exit(0);
}

const noiseSecrets = Number(flags.noise);
const sizes = flags.series ? numbers(flags.sizes) : [Number(flags.namespaces)];
const repeat = Number(flags.repeat ?? (flags.series ? 1 : 2));
const configs: Config[] = (flags.config ?? ["defaults=", "qps0=--qps 0"]).map((spec) => {
  const [name = "", ...rest] = spec.split("=");
  return configFor(name, rest.join("=").split(" ").filter(Boolean));
});
const defaults = configs.find((c) => c.args.length === 0) ?? configFor("defaults", []);
const limitConcurrency = [
  ...new Set([
    ...configs.map((c) => c.concurrency),
    ...numbers(flags["limit-concurrency"] ?? (flags.series ? "" : "1,2,4,8,16,32")),
  ]),
].sort((a, b) => a - b);
const outPath = resolve(flags.out);
const runDir = join(root, ".run", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}`);
/**
 * Node options for the controller. By default V8's heap is sized as Node sizes it inside the
 * Deployment's 256 MiB memory limit (config/deployment.yaml): Node derives the heap limits from the
 * cgroup limit, which on an unconstrained machine would be derived from all of its RAM instead.
 */
const DEPLOYMENT_HEAP = "--max-old-space-size=128 --max-semi-space-size=1";
const baseNodeArgs = [
  "--enable-source-maps",
  ...(flags["node-options"] ?? DEPLOYMENT_HEAP).split(" ").filter(Boolean),
];
let entry = "";
const profileNodeArgs = [
  ...(flags["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${runDir}`] : []),
  ...(flags["heap-snapshot"] ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${runDir}`] : []),
];

/** A controller configuration: its flags and the settings they amount to (defaults from src/config.ts). */
function configFor(name: string, args: string[]): Config {
  const effective = parseConfig(args, {});
  return { name, args, concurrency: effective.concurrency, qps: effective.qps, burst: effective.burst };
}

function numbers(list: string): number[] {
  return list
    .split(",")
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: ${s}`);
      return n;
    });
}

const log = (message: string) =>
  console.error(
    `[bench ${new Date().toISOString().slice(11, 19)}] ${message} (load ${loadavg()[0]?.toFixed(2)})`,
  );

// ---------------------------------------------------------------------------------------------------

interface Context {
  plane: ControlPlane;
  http: BenchClient;
  tracker: Tracker;
  /** Bench namespaces (with placeholders) that exist: indexes 0..placeholders-1. */
  placeholders: number;
  generation: number;
  runs: number;
  /** Every placeholder as the controller last filled it: what the limit scenario writes. */
  snapshot: Map<string, { data: string; status: string }>;
}

async function main() {
  await mkdir(runDir, { recursive: true });
  // The controller runs as the image runs it: compiled JavaScript with source maps, not type-stripped
  // TypeScript (which costs every start a few hundred ms).
  log("building dist/ (tsc -p tsconfig.build.json)");
  const outDir = join(runDir, "dist");
  await promisify(execFile)(
    join(root, "node_modules/.bin/tsc"),
    ["-p", "tsconfig.build.json", "--outDir", outDir],
    { cwd: root },
  );
  entry = join(outDir, "cli.js");
  log(`control plane starting; logs and profiles in ${runDir}`);
  const planeStarted = performance.now();
  const plane = await startControlPlane();
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    options: {
      sizes,
      repeat,
      configs,
      limitConcurrency,
      controllerNodeOptions: baseNodeArgs,
      out: outPath,
      runDir,
    },
    loadAverageAtStart: loadavg(),
    rounds: [] as unknown[],
  };
  const http = await benchClient(plane.kubeconfigPath);
  let tracker: Tracker | undefined;
  const rows: Row[] = [];
  const series: Record<string, number>[] = [];
  try {
    results.controlPlaneStartMs = performance.now() - planeStarted;
    const setupStarted = performance.now();
    await installCrds(http);
    await createExports(http);
    tracker = await startTracker(http);
    results.baseSetupMs = performance.now() - setupStarted;
    const ctx: Context = {
      plane,
      http,
      tracker,
      placeholders: 0,
      generation: 0,
      runs: 0,
      snapshot: new Map(),
    };
    for (const [i, n] of flags["hostile-only"] ? [] : sizes.entries()) {
      const round = await runRound(ctx, n, i === sizes.length - 1);
      (results.rounds as unknown[]).push(round.json);
      rows.push(...round.rows);
      series.push(round.summary);
      results.loadAverageAtEnd = loadavg();
      await writeFile(outPath, JSON.stringify(results, null, 2));
    }
    log("hostile: tenant data the controller does not serve");
    const logDir = runDir;
    const hostileRows = await hostile({
      http,
      kubeconfig: plane.kubeconfigPath,
      entry,
      nodeArgs: baseNodeArgs,
      logDir,
      log,
    });
    rows.push(...hostileRows);
    results.hostile = hostileRows;
    await writeFile(outPath, JSON.stringify(results, null, 2));
  } finally {
    tracker?.stop();
    await plane.stop();
  }
  console.log(printRows(rows));
  if (series.length > 1) console.log(printSeries(series));
  console.log(`\nJSON: ${outPath}\nlogs: ${runDir}`);
}

async function runRound(ctx: Context, n: number, last: boolean) {
  const json: Record<string, unknown> = { namespaces: n };
  const rows: Row[] = [];
  log(`round N=${n}: creating namespaces and placeholders ${ctx.placeholders}..${n - 1}`);
  const setupStarted = performance.now();
  await inPool(range(ctx.placeholders, n), SETUP_CONCURRENCY, (i) => createBenchNamespace(ctx.http, i));
  ctx.placeholders = Math.max(ctx.placeholders, n);
  await until(() => ctx.tracker.total() >= ctx.placeholders, 120_000, "tracker sees every placeholder");
  json.setupMs = performance.now() - setupStarted;
  rows.push({ n, scenario: "setup", config: "", notes: `namespaces+placeholders ${sec(json.setupMs)}` });

  // A first run fills every placeholder and brings the export statuses up to date (namespacesReached);
  // its content is what the limit scenario replays.
  log(`N=${n}: prime run (qps 0)`);
  json.prime = await fanoutAndRotate(ctx, configFor("prime", ["--qps", "0"]), false);

  log(`N=${n}: limit sweep over concurrency ${limitConcurrency.join(", ")}`);
  const limit: Record<number, { resetMs: number[]; fillMs: number[]; planeCpuMs: number[] }> = {};
  for (const c of limitConcurrency) {
    const sample = (limit[c] ??= { resetMs: [], fillMs: [], planeCpuMs: [] });
    sample.resetMs.push(await reset(ctx, c));
    const filled = await fill(ctx, c);
    sample.fillMs.push(filled.ms);
    sample.planeCpuMs.push(filled.planeCpuMs);
  }
  json.limitSweep = limit;
  for (const c of limitConcurrency) {
    const s = limit[c];
    if (!s) continue;
    const ms = median(s.fillMs);
    rows.push({
      n,
      scenario: "limit",
      config: `concurrency ${c}`,
      writes: ctx.placeholders,
      timeMs: ms,
      planeCpuMs: median(s.planeCpuMs),
      notes: `${Math.round((ctx.placeholders * 1000) / ms)} writes/s (reset ${sec(median(s.resetMs))})`,
    });
  }

  const runs: unknown[] = [];
  for (let r = 1; r <= repeat; r++) {
    for (const config of configs) {
      log(`N=${n}: fanout+rotate ${config.name} #${r}: limit at concurrency ${config.concurrency} first`);
      await reset(ctx, config.concurrency);
      const { ms: limitMs, planeCpuMs } = await fill(ctx, config.concurrency);
      const sample = (limit[config.concurrency] ??= { resetMs: [], fillMs: [], planeCpuMs: [] });
      sample.fillMs.push(limitMs);
      sample.planeCpuMs.push(planeCpuMs);
      const run = await fanoutAndRotate(ctx, config, r === 1 && config === defaults && !!flags["cpu-prof"]);
      runs.push({ config: config.name, repetition: r, limitMs, ...run });
      for (const [scenario, m] of [
        ["fanout", run.fanout],
        ["rotate", run.rotate],
      ] as const) {
        rows.push({
          n,
          scenario,
          config: `${config.name} #${r}`,
          timeMs: m.ms,
          limitMs,
          writes: m.writes,
          placeholderChanges: m.placeholderChanges,
          exportChanges: m.exportChanges,
          cpuMs: m.cpuMs,
          planeCpuMs: m.planeCpuMs,
          rssMb: m.rssMb,
          notes:
            scenario === "fanout"
              ? `caches synced at ${sec(run.fanout.cachesSyncedMs)}; ${codes(m.writesByCode)}`
              : codes(m.writesByCode),
        });
      }
    }
  }
  json.runs = runs;

  log(`N=${n}: idle (restart over converged state, then one periodic resync)`);
  const idle = await idleAndNoise(ctx, rows, n);
  json.idle = idle.idle;
  json.noise = idle.noise;
  json.churn = idle.churn;

  if (!last) {
    log(`N=${n}: deleting the noise Secrets for the next round`);
    const started = performance.now();
    await inPool(range(0, NOISE_NAMESPACES), 8, (i) => deleteNoise(ctx.http, i));
    json.noiseDeleteMs = performance.now() - started;
  }

  type Run = { config: string; limitMs: number; fanout: Measured; rotate: Measured };
  const runsOf = (name: string) => (runs as Run[]).filter((r) => r.config === name);
  // Medians over the repetitions; "x limit" compares each run with the limit measured just before it.
  const summary: Record<string, number> = {
    namespaces: n,
    ...Object.fromEntries(
      configs.flatMap((c) => {
        const of = runsOf(c.name);
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
    ),
    rssMb: idle.idle.rssMb,
    rssNoiseMb: idle.noise.rssFreshMb,
    resyncCpuMs: idle.idle.resync.cpuMs,
    churnP99Ms: idle.churn.p99Ms,
  };
  json.summary = summary;
  return { json, rows, summary };
}

interface Measured {
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

/** fanout: controller started on empty placeholders; rotate: the star source changes under it. */
async function fanoutAndRotate(ctx: Context, config: Config, profile: boolean) {
  const count = ctx.placeholders;
  await reset(ctx, 16);
  const before = counters(ctx);
  const planeBefore = await planeCpuMs(ctx);
  const controller = await startController({
    name: `${++ctx.runs}-${config.name}`,
    kubeconfig: ctx.plane.kubeconfigPath,
    args: config.args,
    logDir: runDir,
    entry,
    nodeArgs: [...baseNodeArgs, ...(profile ? profileNodeArgs : [])],
  });
  try {
    const done = await ctx.tracker.allCorrect(count, timeoutFor(count, config));
    const fanoutMs = done - controller.startedAt;
    const planeDone = await planeCpuMs(ctx);
    const cachesSyncedMs = await controller.logMark("caches synced");
    const quiet = await controller.quiesce();
    const usage = await controller.usage();
    const fanout: Measured & { cachesSyncedMs: number | undefined } = {
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

/** idle, noise and churn share controllers: each is measured on a fresh process with the defaults. */
async function idleAndNoise(ctx: Context, rows: Row[], n: number) {
  const idleController = await startController({
    name: `${++ctx.runs}-idle`,
    kubeconfig: ctx.plane.kubeconfigPath,
    args: ["--resync-period", String(RESYNC_PERIOD_S)],
    logDir: runDir,
    entry,
    nodeArgs: baseNodeArgs,
  });
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

  const noiseController = await startController({
    name: `${++ctx.runs}-noise`,
    kubeconfig: ctx.plane.kubeconfigPath,
    args: [],
    logDir: runDir,
    entry,
    nodeArgs: [...baseNodeArgs, ...(flags["heap-snapshot"] ? profileNodeArgs : [])],
  });
  let churn;
  try {
    await waitForMark(noiseController, "reconciling");
    const startup = await noiseController.quiesce();
    const fresh = await settledUsage(noiseController);
    if (flags["heap-snapshot"]) process.kill(noiseController.pid, "SIGUSR2");
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
async function settledUsage(controller: ControllerUnderTest): Promise<Usage> {
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

async function waitForMark(controller: ControllerUnderTest, message: string): Promise<number> {
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

/** Every placeholder back to `{}`: N merge patches at this concurrency, timed. */
async function reset(ctx: Context, concurrency: number): Promise<number> {
  const started = performance.now();
  await inPool(range(0, ctx.placeholders), concurrency, (i) =>
    withRetry(() =>
      ctx.http.request(secretPath(benchNamespace(i), "pull"), {
        method: "PATCH",
        contentType: MERGE_PATCH,
        body: resetPatch,
      }),
    ).then(() => undefined),
  );
  const ms = performance.now() - started;
  await ctx.tracker.allReset(ctx.placeholders, 120_000);
  return ms;
}

/**
 * The limit: the same writes the controller makes to fill the placeholders (their data and status,
 * resourceVersion-guarded), by a client with nothing else to do, at this concurrency, no rate limit.
 */
async function fill(ctx: Context, concurrency: number): Promise<{ ms: number; planeCpuMs: number }> {
  const { snapshot } = ctx;
  const cpuBefore = await planeCpuMs(ctx);
  const started = performance.now();
  await inPool(range(0, ctx.placeholders), concurrency, async (i) => {
    const key = placeholderKey(i);
    const content = snapshot.get(key);
    const resourceVersion = ctx.tracker.resourceVersionOf(key);
    if (!content || !resourceVersion) throw new Error(`no snapshot of ${key}`);
    await withRetry(() =>
      ctx.http.request(secretPath(benchNamespace(i), "pull"), {
        method: "PATCH",
        contentType: MERGE_PATCH,
        body: fillPatch(resourceVersion, content.data, content.status),
      }),
    );
  });
  const ms = performance.now() - started;
  const cpuAfter = await planeCpuMs(ctx);
  await ctx.tracker.allCorrect(ctx.placeholders, 120_000);
  return { ms, planeCpuMs: cpuAfter - cpuBefore };
}

/** CPU time (utime + stime) kube-apiserver and etcd have used so far, ms. */
async function planeCpuMs(ctx: Context): Promise<number> {
  const { etcd, "kube-apiserver": api } = ctx.plane.pids();
  let total = 0;
  for (const pid of [etcd, api]) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  }
  return total;
}

const counters = (ctx: Context) => ({
  placeholderChanges: ctx.tracker.placeholderChanges(),
  exportChanges: ctx.tracker.exportChanges(),
});
const changesSince = (ctx: Context, before: ReturnType<typeof counters>) => ({
  placeholderChanges: ctx.tracker.placeholderChanges() - before.placeholderChanges,
  exportChanges: ctx.tracker.exportChanges() - before.exportChanges,
});

/** Long enough for `count` writes at the configured QPS, with a generous margin. */
const timeoutFor = (count: number, config: Config) =>
  120_000 + (config.qps > 0 ? (count * 1000) / config.qps : 0) + count * 100;

async function until(check: () => boolean, timeoutMs: number, what: string, poll?: () => Promise<void>) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    await poll?.();
    if (check()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );
}

const codes = (byCode: Record<string, number>) =>
  Object.keys(byCode).length === 0
    ? "no writes"
    : Object.entries(byCode)
        .map(([code, count]) => `${count}×${code}`)
        .join(" ");

const sec = (ms: unknown) =>
  typeof ms === "number" && Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "-";
const signed = (mb: number) => `${mb >= 0 ? "+" : ""}${mb.toFixed(1)} MB`;

await main();
// The client's pooled keep-alive connections would hold the process open a while longer.
process.exit(0);
