// compare-carvel: fanout and rotate by our controller (defaults) and then by carvel's
// secretgen-controller (as it ships: controller-runtime's client limit of 20 QPS, burst 30) on the same
// control plane, the same carvel-compatible fixtures, and the same watch-based clock, which judges
// both by the placeholders' data alone. Carvel's CRDs replace ours while it runs.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { loadAllYaml } from "@kubernetes/client-node";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { freePort } from "../../dev/processes.ts";
import type { KubeObject } from "../../src/runtime/kube-http.ts";
import { processUsage, scrapeOf, startWithLogPipe } from "../controller.ts";
import { changesSince, type Context, counters, log, planeCpuMs, reset, type Round } from "../context.ts";
import { installCrds, ourCrds, rotateStar } from "../fixtures.ts";
import type { Row } from "../report.ts";
import type { Scenario } from "../scenario.ts";
import { codes, diff, sec } from "../stats.ts";
import { type FanoutAndRotate, fanoutAndRotate, type Measured, rowsOf } from "./fanout.ts";

const CRDS = resolve(import.meta.dirname, "../carvel/crds.yml");
/** The shared folder next to the repository, where this project's machines keep the binary. */
const SHARED_BINARY = resolve(import.meta.dirname, "../../../shared/bin/secretgen-controller");
/** Carvel's controller has no rate-limit flag: this is what it uses, for the timeouts. */
const CARVEL_QPS = 20;

export function carvelBinary(): string {
  const path = process.env.SECRETGEN_CONTROLLER ?? (existsSync(SHARED_BINARY) ? SHARED_BINARY : undefined);
  if (path === undefined || !existsSync(path))
    throw new Error(
      "--compare carvel needs carvel's secretgen-controller: set SECRETGEN_CONTROLLER=/path/to/it " +
        "(built from github.com/carvel-dev/secretgen-controller, see bench/carvel/README.md)",
    );
  return path;
}

/** bench/carvel/crds.yml as objects. */
async function carvelCrds(): Promise<KubeObject[]> {
  return loadAllYaml(await readFile(CRDS, "utf8")) as KubeObject[];
}

async function carvelFanoutAndRotate(ctx: Context, binary: string): Promise<FanoutAndRotate> {
  const count = ctx.placeholders;
  const timeoutMs = 120_000 + (count * 2 * 1000) / CARVEL_QPS;
  await reset(ctx, 16);
  const port = await freePort();
  const logPath = join(ctx.runDir, `carvel-${++ctx.runs}.log`);
  const before = counters(ctx);
  const planeBefore = await planeCpuMs(ctx);
  const startedAt = performance.now();
  const proc = startWithLogPipe(
    binary,
    ["--kubeconfig", ctx.plane.kubeconfigPath, "--metrics-bind-address", `127.0.0.1:${port}`],
    logPath,
    process.env,
  );
  const scrape = async () => scrapeOf(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  try {
    const done = await ctx.tracker.allCorrect(count, timeoutMs);
    const planeDone = await planeCpuMs(ctx);
    const usage = await processUsage(proc.child.pid);
    const quiet = await scrape();
    const fanout = {
      ms: done - startedAt,
      cachesSyncedMs: undefined,
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
    const rotated = await ctx.tracker.allCorrect(count, timeoutMs);
    const planeRotated = await planeCpuMs(ctx);
    const usageAfter = await processUsage(proc.child.pid);
    const after = await scrape();
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
    log(
      `  carvel: fanout ${sec(fanout.ms)} ${fanout.writes} writes; rotate ${sec(rotate.ms)}; ${codes(after.writesByCode)}`,
    );
    return { fanout, rotate, log: logPath };
  } finally {
    await proc.stop(30_000);
  }
}

export const compareCarvel: Scenario = {
  name: "compare-carvel",
  async run(ctx: Context, { n }: Round) {
    const binary = carvelBinary();
    const crds = await carvelCrds();
    const { defaults } = ctx.options;
    log(`N=${n}: ours (${defaults.name}) on carvel-compatible fixtures`);
    const ours = await fanoutAndRotate(ctx, defaults, false);
    log(`N=${n}: carvel's secretgen-controller (${binary}), its CRDs in place of ours`);
    await installCrds(ctx.http, crds);
    let carvel: FanoutAndRotate;
    try {
      carvel = await carvelFanoutAndRotate(ctx, binary);
    } finally {
      await installCrds(ctx.http, ourCrds());
    }
    const times = (run: FanoutAndRotate) => [run.fanout.ms, run.rotate.ms];
    const ratios = times(carvel).map((ms, i) => ms / (times(ours)[i] ?? NaN));
    const rows: Row[] = [
      ...rowsOf(n, `ours ${defaults.name}`, ours),
      ...rowsOf(n, "carvel", carvel).map((row, i) => ({
        ...row,
        notes: `${ratios[i]?.toFixed(1)}x ours; ${row.notes ?? ""}`,
      })),
    ];
    const summary = {
      "fanoutMs ours": ours.fanout.ms,
      "fanoutMs carvel": carvel.fanout.ms,
      "rotateMs ours": ours.rotate.ms,
      "rotateMs carvel": carvel.rotate.ms,
    };
    return { rows, json: { ours, carvel }, summary };
  },
};
