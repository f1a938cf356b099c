// The commands README.md and docs/ tell a user to run work on a machine whose first `node` on PATH
// is older than 24 (Node 20 on Debian 12): each goes through the project's Node 24 setup, or stops
// with one line naming the version it needs, never a crash with a stack trace.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";

const root = resolve(import.meta.dirname, "..");

/** The first `node` on PATH older than 24, outside this project's .tools/, or undefined. */
function oldNode(): string | undefined {
  const all = execFileSync("sh", ["-c", "which -a node || true"], { encoding: "utf8" }).split("\n");
  return all.find((path) => {
    if (path === "" || path.startsWith(join(root, ".tools"))) return false;
    const version = execFileSync(path, ["-p", "process.versions.node"], { encoding: "utf8" });
    return Number(version.split(".")[0]) < 24;
  });
}

const node = oldNode();
const skip = node === undefined ? "no Node older than 24 on this machine to try the commands with" : false;
const PATH = [
  dirname(node ?? "/"),
  ...(process.env.PATH ?? "").split(":").filter((p) => !p.startsWith(root)),
].join(":");

/** Runs a command from the repository root with the old Node first on PATH; exit code and output. */
async function withOldNode(command: string, args: string[]) {
  const env = { ...process.env, PATH };
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd: root, env, timeout: 180_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code?: number; stdout?: string; stderr?: string };
    return { code: code ?? -1, output: (stdout ?? "") + (stderr ?? "") };
  }
}

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(node:internal)/m;

/**
 * Scripts that need no Node 24: tsc runs on any Node since 14, and the Dockerfile's build stage runs
 * `npm run build` with only package.json, the lock file, tsconfig and src/ (no scripts/).
 */
const ANY_NODE = new Set(["build"]);

test("every npm script but the build runs through the project's Node 24 setup", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  for (const [name, command] of Object.entries(scripts))
    if (!ANY_NODE.has(name))
      assert.match(
        command,
        /^(exec )?bash scripts\/(with-node24|with-node24-path|test)\.sh( |$)/,
        `npm run ${name}`,
      );
});

const COMMANDS: { command: string; args: string[]; code: number; says: RegExp }[] = [
  { command: "npm", args: ["start", "--", "--help"], code: 0, says: /usage: secret-export-controller run/ },
  { command: "npm", args: ["run", "dev", "--", "--help"], code: 0, says: /usage: npm run dev/ },
  { command: "npm", args: ["run", "cluster"], code: 2, says: /usage: npm run cluster -- --kubeconfig PATH/ },
  { command: "npm", args: ["run", "explain", "--", "--help"], code: 0, says: /explain --namespace/ },
  { command: "npm", args: ["run", "bench", "--", "--help"], code: 0, says: /usage: npm run bench/ },
  { command: "npm", args: ["run", "bench:providers"], code: 0, says: /^basicAuth +RSS .* MB/m },
];

// Side by side: each waits mostly for Node to start and load TypeScript.
describe("README and docs commands", { concurrency: true }, () => {
  for (const { command, args, code, says } of COMMANDS)
    test(
      `with Node 20 first on PATH, \`${command} ${args.join(" ")}\` runs on Node 24`,
      { skip },
      async () => {
        // npm start runs the build; a clean clone has none yet.
        if (args[0] === "start" && !existsSync(join(root, "dist", "cli.js")))
          assert.equal((await withOldNode("npm", ["run", "build"])).code, 0);
        const result = await withOldNode(command, args);
        assert.doesNotMatch(result.output, STACK_FRAME);
        assert.match(result.output, says);
        assert.equal(result.code, code, result.output);
      },
    );
});

test(
  "with Node 20, the installed command stops with one line naming the Node it needs",
  { skip },
  async () => {
    if (!existsSync(join(root, "dist", "bin.js")))
      assert.equal((await withOldNode("npm", ["run", "build"])).code, 0);
    const result = await withOldNode(node ?? "node", [join(root, "dist", "bin.js"), "explain", "--help"]);
    assert.equal(result.code, 1);
    const version = execFileSync(node ?? "node", ["--version"], { encoding: "utf8" }).trim();
    assert.equal(
      result.output,
      `secret-export-controller needs Node.js 24 or later (this is Node.js ${version})\n`,
    );
  },
);
