// carvel's kapp, for the tests that deploy with it: `$KAPP`, else `kapp` on PATH, else the shared
// folder next to the repository on this project's machines (../shared/bin/kapp); undefined if none.
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "../..");

export const KAPP_MISSING =
  "kapp not found: set KAPP=/path/to/kapp or put kapp on PATH " +
  "(releases: https://github.com/carvel-dev/kapp/releases; or `go build ./cmd/kapp` in its repository)";

export function findKapp(): string | undefined {
  if (process.env.KAPP) return process.env.KAPP;
  try {
    return execFileSync("sh", ["-c", "command -v kapp"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    const shared = resolve(root, "../shared/bin/kapp");
    return existsSync(shared) ? shared : undefined;
  }
}

/** `kapp ...args --yes` with this kubeconfig, from the repository root; its output (the change table and the "Op:" summary). */
export async function kapp(binary: string, kubeconfig: string, ...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(binary, [...args, "--yes"], {
      cwd: root,
      env: { ...process.env, KUBECONFIG: kubeconfig },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(`kapp ${args.join(" ")} failed:\n${stderr ?? ""}${stdout ?? ""}`, { cause: err });
  }
}

/** kapp's summary of the changes it made, e.g. "0 create, 0 delete, 1 update". */
export function opSummary(output: string): string {
  const line = /Op:\s+(\d+ create, \d+ delete, \d+ update)/.exec(output);
  if (!line?.[1]) throw new Error(`no "Op:" summary in kapp's output:\n${output}`);
  return line[1];
}
