// The controller as a real process (`node src/cli.ts run`), for what only a process shows: leader
// election between replicas, signals, the HTTP port and its logs.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type RunningProcess, startProcess, waitUntil } from "../../dev/processes.ts";
import { uniqueName } from "./cluster.ts";

const root = resolve(import.meta.dirname, "../..");

export interface ControllerProcess extends RunningProcess {
  identity: string;
  logPath: string;
  log(): Promise<string>;
  /** The port of /metrics, /healthz and /readyz, once it logged it. */
  port(): Promise<number>;
  metrics(): Promise<string>;
}

export function startControllerProcess(args: string[], env: Record<string, string> = {}): ControllerProcess {
  const identity = uniqueName("ctrl");
  const logPath = join(root, ".run", `${identity}.log`);
  const proc = startProcess(
    process.execPath,
    [join(root, "src/cli.ts"), "run", "--http-bind-address", "127.0.0.1:0", ...args],
    logPath,
    { ...process.env, POD_NAME: identity, ...env },
  );
  const log = () => readFile(logPath, "utf8").catch(() => "");
  const port = async () => {
    let found = 0;
    await waitUntil(
      `${identity} serving HTTP`,
      30_000,
      async () => {
        found = Number((await log()).match(/"address":"[^"]*:(\d+)"/)?.[1] ?? 0);
        return found > 0;
      },
      proc,
    );
    return found;
  };
  return {
    ...proc,
    identity,
    logPath,
    log,
    port,
    metrics: async () => (await fetch(`http://127.0.0.1:${await port()}/metrics`)).text(),
  };
}

/** The value of one sample in Prometheus text, 0 when absent. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = metrics
    .split("\n")
    .find((l) =>
      l.startsWith(`${name}{`) || l.startsWith(`${name} `) ? wanted.every((w) => l.includes(w)) : false,
    );
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}
