// `npm run bench`: the controller against its own local control plane, scenario by scenario, compared
// with what the API server itself can do (the "limit" scenario). Prints a table and writes JSON.
//
//   npm run bench -- [--namespaces 2000] [--series] [--sizes 500,1000,2000,5000] [--repeat 2]
//                    [--scenario limit|fanout|idle]... [--compare carvel]
//                    [--out bench-results.json] [--config NAME=ARGS]... [--limit-concurrency 1,4,16]
//                    [--noise 20000] [--cpu-prof] [--heap-snapshot] [--node-options "..."]
//
// This file is the runner: it builds the controller, starts the control plane, creates the fixtures
// and, per size, the namespaces and a first filling of the placeholders; then each selected scenario
// (bench/scenarios/, one module each behind bench/scenario.ts) measures. See docs/benchmark.md.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { startControlPlane } from "../dev/control-plane.ts";
import { benchClient, inPool, range } from "./client.ts";
import { baseNodeArgs, type Context, log, type Round, until } from "./context.ts";
import {
  CARVEL_COMPATIBLE,
  createBenchNamespace,
  createExports,
  FULL,
  installCrds,
  ourCrds,
  SETUP_CONCURRENCY,
} from "./fixtures.ts";
import { configFor, type Options, parseOptions, USAGE } from "./options.ts";
import { printRows, printSeries, type Row } from "./report.ts";
import type { Scenario } from "./scenario.ts";
import { compareCarvel } from "./scenarios/compare-carvel.ts";
import { fanout, fanoutAndRotate } from "./scenarios/fanout.ts";
import { idle } from "./scenarios/idle.ts";
import { limit } from "./scenarios/limit.ts";
import { podwatch } from "./scenarios/podwatch.ts";
import { hostileScenario } from "./scenarios/hostile.ts";
import { provision } from "./scenarios/provision.ts";
import { sec } from "./stats.ts";
import { startTracker } from "./tracker.ts";

const root = resolve(import.meta.dirname, "..");
const SCENARIOS: Scenario[] = [limit, fanout, idle, provision, podwatch, hostileScenario, compareCarvel];

async function main(options: Options): Promise<void> {
  const scenarios = options.scenarios.map((name) => {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario) throw new Error(`no scenario ${name}`);
    return scenario;
  });
  const fixtures = options.compare === undefined ? FULL : CARVEL_COMPATIBLE;
  const runDir = join(root, ".run", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  await mkdir(runDir, { recursive: true });
  const entry = await buildController(runDir);
  log(`control plane starting; logs and profiles in ${runDir}`);
  const planeStarted = performance.now();
  const plane = await startControlPlane();
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    options: { ...options, fixtures: fixtures.name, controllerNodeOptions: baseNodeArgs(options), runDir },
    loadAverageAtStart: loadavg(),
    rounds: [] as unknown[],
  };
  const http = await benchClient(plane.kubeconfigPath);
  let ctx: Context | undefined;
  const rows: Row[] = [];
  const series: Record<string, number>[] = [];
  try {
    results.controlPlaneStartMs = performance.now() - planeStarted;
    const setupStarted = performance.now();
    await installCrds(http, ourCrds());
    await createExports(http, fixtures);
    const tracker = await startTracker(http, fixtures, options.compare === undefined);
    results.baseSetupMs = performance.now() - setupStarted;
    ctx = {
      options,
      fixtures,
      plane,
      http,
      tracker,
      runDir,
      entry,
      placeholders: 0,
      generation: 0,
      runs: 0,
      snapshot: new Map(),
    };
    for (const [i, n] of options.sizes.entries()) {
      const round = await runRound(ctx, scenarios, { n, last: i === options.sizes.length - 1 });
      (results.rounds as unknown[]).push(round.json);
      rows.push(...round.rows);
      series.push(round.summary);
      results.loadAverageAtEnd = loadavg();
      await writeFile(options.outPath, JSON.stringify(results, null, 2));
    }
  } finally {
    ctx?.tracker.stop();
    await plane.stop();
  }
  console.log(printRows(rows));
  if (series.length > 1) console.log(printSeries(series));
  console.log(`\nJSON: ${options.outPath}\nlogs: ${runDir}`);
}

/** The controller runs as the image runs it: compiled JavaScript with source maps, not type-stripped TypeScript. */
async function buildController(runDir: string): Promise<string> {
  log("building dist/ (tsc -p tsconfig.build.json)");
  const outDir = join(runDir, "dist");
  await promisify(execFile)(
    join(root, "node_modules/.bin/tsc"),
    ["-p", "tsconfig.build.json", "--outDir", outDir],
    { cwd: root },
  );
  return join(outDir, "cli.js");
}

/**
 * The namespaces and placeholders up to N, a first run that fills every placeholder and brings the
 * export statuses up to date (its content is what the limit scenario replays), then the scenarios.
 */
async function runRound(ctx: Context, scenarios: Scenario[], round: Round) {
  const { n } = round;
  const json: Record<string, unknown> = { namespaces: n };
  log(`round N=${n}: creating namespaces and placeholders ${ctx.placeholders}..${n - 1}`);
  const setupStarted = performance.now();
  await inPool(range(ctx.placeholders, n), SETUP_CONCURRENCY, (i) => createBenchNamespace(ctx.http, i));
  ctx.placeholders = Math.max(ctx.placeholders, n);
  await until(() => ctx.tracker.total() >= ctx.placeholders, 120_000, "tracker sees every placeholder");
  json.setupMs = performance.now() - setupStarted;
  const rows: Row[] = [
    { n, scenario: "setup", config: "", notes: `namespaces+placeholders ${sec(json.setupMs)}` },
  ];
  log(`N=${n}: prime run (qps 0)`);
  json.prime = await fanoutAndRotate(ctx, configFor("prime", ["--qps", "0"]), false);
  const summary: Record<string, number> = { namespaces: n };
  for (const scenario of scenarios) {
    const result = await scenario.run(ctx, round);
    rows.push(...result.rows);
    json[scenario.name] = result.json;
    Object.assign(summary, result.summary);
  }
  json.summary = summary;
  return { json, rows, summary };
}

const options = parseOptions(process.argv.slice(2));
if (options === "help") console.log(USAGE);
else await main(options);
// The client's pooled keep-alive connections would hold the process open a while longer.
process.exit(0);
