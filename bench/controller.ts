// The controller under test as its own process (`node src/cli.ts run`), so its memory and CPU time are
// its own: RSS and CPU from /proc/<pid>, API writes from its /metrics, timings from its JSON log.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, unlinkSync } from "node:fs";
import { type RunningProcess, supervised, waitUntil } from "../dev/processes.ts";
import {
  METRIC_REST_CLIENT_REQUESTS_TOTAL,
  METRIC_RECONCILE_TOTAL,
  METRIC_WORKQUEUE_DEPTH,
} from "../src/constants.ts";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const CLOCK_TICKS_PER_SECOND = 100;

export interface ControllerUnderTest {
  name: string;
  proc: RunningProcess;
  pid: number;
  logPath: string;
  /** performance.now() when the process was spawned, and the same moment as Date.now(). */
  startedAt: number;
  startedAtEpochMs: number;
  scrape(): Promise<Scrape>;
  usage(): Promise<Usage>;
  /** ms from spawn until the log line `message` (e.g. "caches synced"), from the log's own timestamps. */
  logMark(message: string): Promise<number | undefined>;
  /** Resolves once nothing is queued and no reconcile or write happened for `quietMs`. */
  quiesce(quietMs?: number, timeoutMs?: number): Promise<Scrape>;
  stop(): Promise<void>;
}

export interface Scrape {
  writes: number;
  writesByCode: Record<string, number>;
  reads: number;
  reconciles: number;
  depth: number;
}

export interface Usage {
  /** utime + stime, ms. */
  cpuMs: number;
  rssMb: number;
  hwmMb: number;
}

/**
 * Like dev/processes.ts startProcess (killed with us, SIGTERM then SIGKILL on stop), but stdout and
 * stderr go to the log file as in a pod: through a pipe that another process (here `cat`, in a pod
 * the container runtime) copies to disk. Written to the file directly, each synchronous log write
 * would wait behind etcd's fsyncs on the same disk; piped through this process, whenever the
 * benchmark is busy. Either would be measured as the controller's time.
 */
export function startWithLogPipe(
  command: string,
  args: string[],
  logPath: string,
  env: NodeJS.ProcessEnv,
): RunningProcess {
  const fifo = `${logPath}.fifo`;
  execFileSync("mkfifo", [fifo]);
  spawn("setpriv", ["--pdeathsig", "KILL", "--", "sh", "-c", 'exec cat <"$0" >"$1"', fifo, logPath], {
    stdio: "ignore",
  });
  const fd = openSync(fifo, "w"); // returns once cat has opened the other end
  unlinkSync(fifo);
  const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", command, ...args], {
    env,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  return supervised("controller", child);
}

/** CPU time and memory of a process so far, from /proc. */
export async function processUsage(pid: number | undefined): Promise<Usage> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return {
    cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
    rssMb: kb("VmRSS") / 1024,
    hwmMb: kb("VmHWM") / 1024,
  };
}

const environmentWithoutOverrides = () =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SEC_")));

/** API requests and reconciles from a Prometheus text exposition (client-go's metric names). */
export function scrapeOf(text: string): Scrape {
  const result: Scrape = { writes: 0, writesByCode: {}, reads: 0, reconciles: 0, depth: 0 };
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? "";
    if (line.startsWith(`${METRIC_REST_CLIENT_REQUESTS_TOTAL}{`)) {
      if (WRITE_METHODS.has(label("method"))) {
        result.writes += value;
        const code = label("code");
        result.writesByCode[code] = (result.writesByCode[code] ?? 0) + value;
      } else result.reads += value;
    } else if (line.startsWith(`${METRIC_RECONCILE_TOTAL}{`)) result.reconciles += value;
    else if (line.startsWith(`${METRIC_WORKQUEUE_DEPTH}{`)) result.depth += value;
  }
  return result;
}

export async function startController(options: {
  name: string;
  kubeconfig: string;
  args: string[];
  logDir: string;
  nodeArgs?: string[];
  /** The entry point: a built cli.js. */
  entry: string;
}): Promise<ControllerUnderTest> {
  const logPath = join(options.logDir, `controller-${options.name}.log`);
  const startedAt = performance.now();
  const startedAtEpochMs = Date.now();
  const proc = startWithLogPipe(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      options.entry,
      "run",
      "--kubeconfig",
      options.kubeconfig,
      "--leader-elect",
      "false",
      "--http-bind-address",
      "127.0.0.1:0",
      ...options.args,
    ],
    logPath,
    { ...environmentWithoutOverrides(), POD_NAME: `bench-${options.name}` },
  );
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error("controller did not start");
  const log = () => readFile(logPath, "utf8").catch(() => "");
  let port = 0;
  await waitUntil(
    "controller serving HTTP",
    60_000,
    async () => {
      port = Number((await log()).match(/"address":"[^"]*:(\d+)"/)?.[1] ?? 0);
      return port > 0;
    },
    proc,
  );

  const scrape = async () => scrapeOf(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

  const usage = () => processUsage(pid);

  async function logMark(message: string): Promise<number | undefined> {
    for (const line of (await log()).split("\n")) {
      if (!line.includes(`"msg":"${message}"`)) continue;
      const time = Number(/"time":(\d+)/.exec(line)?.[1]);
      return Number.isFinite(time) ? time - startedAtEpochMs : undefined;
    }
    return undefined;
  }

  async function quiesce(quietMs = 1_500, timeoutMs = 600_000): Promise<Scrape> {
    const deadline = performance.now() + timeoutMs;
    let last = await scrape();
    let quietSince = performance.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const now = await scrape();
      if (now.depth > 0 || now.reconciles !== last.reconciles || now.writes !== last.writes) {
        quietSince = performance.now();
      } else if (performance.now() - quietSince >= quietMs) {
        return now;
      }
      if (performance.now() > deadline) throw new Error(`controller ${options.name} did not quiesce`);
      last = now;
    }
  }

  return {
    name: options.name,
    proc,
    pid,
    logPath,
    startedAt,
    startedAtEpochMs,
    scrape,
    usage,
    logMark,
    quiesce,
    async stop() {
      await proc.stop(30_000);
    },
  };
}
