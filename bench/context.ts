// What every scenario works with: the control plane, the client, the watch that observes the
// placeholders, the run's options and folders, and the measurements scenarios share (resetting and
// refilling the placeholders, CPU of the control plane, change counters).
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type { ControlPlane } from "../dev/control-plane.ts";
import { type BenchClient, inPool, range, withRetry } from "./client.ts";
import { type ControllerUnderTest, processUsage, startController } from "./controller.ts";
import {
  benchNamespace,
  type FixtureSet,
  fillPatch,
  placeholderKey,
  resetPatch,
  secretPath,
} from "./fixtures.ts";
import type { Config, Options } from "./options.ts";
import type { Tracker } from "./tracker.ts";

const MERGE_PATCH = "application/merge-patch+json";

export interface Context {
  options: Options;
  fixtures: FixtureSet;
  plane: ControlPlane;
  http: BenchClient;
  tracker: Tracker;
  /** Logs, profiles and the built controller of this run. */
  runDir: string;
  /** The controller's entry point: dist/cli.js built for the run. */
  entry: string;
  /** Bench namespaces (with placeholders) that exist: indexes 0..placeholders-1. */
  placeholders: number;
  /** The star source's generation: what every placeholder must hold. */
  generation: number;
  /** Controllers started so far (names their logs). */
  runs: number;
  /** Every placeholder as the controller last filled it: what the limit scenario writes. */
  snapshot: Map<string, { data: string; status: string }>;
}

/** One size of the benchmark: N placeholders; the last round leaves the cluster as it is. */
export interface Round {
  n: number;
  last: boolean;
}

/**
 * Node options for the controller. By default V8's heap is sized as Node sizes it inside the
 * Deployment's 256 MiB memory limit (config/deployment.yaml): Node derives the heap limits from the
 * cgroup limit, which on an unconstrained machine would be derived from all of its RAM instead.
 */
const DEPLOYMENT_HEAP = "--max-old-space-size=128 --max-semi-space-size=1";

export const baseNodeArgs = (options: Options) => [
  "--enable-source-maps",
  ...(options.nodeOptions ?? DEPLOYMENT_HEAP).split(" ").filter(Boolean),
];

export const cpuProfileArgs = (ctx: Context) =>
  ctx.options.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${ctx.runDir}`] : [];
export const heapSnapshotArgs = (ctx: Context) =>
  ctx.options.heapSnapshot ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${ctx.runDir}`] : [];

/** Our controller, as its own process with its log in the run folder. */
export function launch(
  ctx: Context,
  name: string,
  args: string[],
  extraNodeArgs: string[] = [],
): Promise<ControllerUnderTest> {
  return startController({
    name: `${++ctx.runs}-${name}`,
    kubeconfig: ctx.plane.kubeconfigPath,
    args,
    logDir: ctx.runDir,
    entry: ctx.entry,
    nodeArgs: [...baseNodeArgs(ctx.options), ...extraNodeArgs],
  });
}

export const log = (message: string) =>
  console.error(
    `[bench ${new Date().toISOString().slice(11, 19)}] ${message} (load ${loadavg()[0]?.toFixed(2)})`,
  );

/** Every placeholder back to `{}`: N merge patches at this concurrency, timed. */
export async function reset(ctx: Context, concurrency: number): Promise<number> {
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
export async function fill(ctx: Context, concurrency: number): Promise<{ ms: number; planeCpuMs: number }> {
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
export async function planeCpuMs(ctx: Context): Promise<number> {
  const { etcd, "kube-apiserver": api } = ctx.plane.pids();
  let total = 0;
  for (const pid of [etcd, api]) total += (await processUsage(pid)).cpuMs;
  return total;
}

export const counters = (ctx: Context) => ({
  placeholderChanges: ctx.tracker.placeholderChanges(),
  exportChanges: ctx.tracker.exportChanges(),
});

export const changesSince = (ctx: Context, before: ReturnType<typeof counters>) => ({
  placeholderChanges: ctx.tracker.placeholderChanges() - before.placeholderChanges,
  exportChanges: ctx.tracker.exportChanges() - before.exportChanges,
});

/** Long enough for `count` writes at the configured QPS, with a generous margin. */
export const timeoutFor = (count: number, config: Pick<Config, "qps">) =>
  120_000 + (config.qps > 0 ? (count * 1000) / config.qps : 0) + count * 100;

export async function until(
  check: () => boolean,
  timeoutMs: number,
  what: string,
  poll?: () => Promise<void>,
) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    await poll?.();
    if (check()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
