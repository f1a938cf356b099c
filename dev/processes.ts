// Child processes that cannot outlive us: each is started under `setpriv --pdeathsig KILL`, so
// even a SIGKILLed parent leaves nothing behind; stop() sends SIGTERM, then SIGKILL after a grace period.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { get } from "node:https";
import { createServer } from "node:net";

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(
  command: string,
  args: string[],
  logPath: string,
  env: NodeJS.ProcessEnv = process.env,
): RunningProcess {
  const log = createWriteStream(logPath, { flags: "a" });
  // Its own process group: Ctrl-C in a terminal reaches only us, and we stop children in order
  // (the controller before the API server it talks to); pdeathsig still ends them if we die.
  const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", command, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return supervised(command.split("/").at(-1) ?? command, child, () => log.end());
}

/** A child started under setpriv as a RunningProcess; `stopped` runs once stop() has seen it exit. */
export function supervised(name: string, child: ChildProcess, stopped = () => {}): RunningProcess {
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  return {
    name,
    child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      stopped();
    },
  };
}

/** Polls until check() is true; fails early when the process it waits for has exited. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  proc?: RunningProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | string | undefined;
  void proc?.exited.then((code) => {
    exit = code;
  });
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`${proc?.name} exited (${exit}) before: ${what}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function httpsStatus(url: string, caPath: string): Promise<number> {
  const ca = await readFile(caPath);
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}
