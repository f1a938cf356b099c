// What the container image holds, run as a plain process (no container engine here): the Dockerfile's
// final stage copies package.json, the `npm ci --omit=dev` node_modules and the compiled dist/, and
// starts them with its ENTRYPOINT. This test builds exactly that layout in a temporary directory
// outside the repository (so nothing resolves from the project's own node_modules), replays the
// ENTRYPOINT and CMD as the Dockerfile writes them, and shows the controller starts, syncs, fills
// a placeholder and exits 0 on SIGTERM.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { startProcess, waitUntil } from "../dev/processes.ts";
import { eventually, testNamespace, uniqueName } from "./support/cluster.ts";
import { installCrds } from "./support/controller.ts";
import { createExport, createPlaceholder, createSource, cred, expectAuths } from "./support/fixtures.ts";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
/** npm and node from the Node 24 running this test. */
const toolPath = `${dirname(process.execPath)}:${process.env.PATH ?? ""}`;

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions (comments dropped, no line continuations in ours). */
async function dockerfile(): Promise<Instruction[]> {
  const text = await readFile(join(root, "Dockerfile"), "utf8");
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

/** The instructions of the last (final) stage. */
async function finalStage(): Promise<Instruction[]> {
  const instructions = await dockerfile();
  const from = instructions.map((i) => i.keyword).lastIndexOf("FROM");
  return instructions.slice(from);
}

let dir = "";
let app = "";

before(async () => {
  await installCrds();
  dir = await mkdtemp(join(tmpdir(), "sec-production-layout-"));
  app = join(dir, "app");
  // The production-dependencies stage: package.json and the lock file, `npm ci --omit=dev`.
  const deps = join(dir, "deps");
  await mkdir(deps);
  await cp(join(root, "package.json"), join(deps, "package.json"));
  await cp(join(root, "package-lock.json"), join(deps, "package-lock.json"));
  await run(
    "npm",
    [
      "ci",
      "--omit=dev",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
    ],
    { cwd: deps, env: { ...process.env, PATH: toolPath }, maxBuffer: 16 * 1024 * 1024 },
  );
  // The final stage: package.json and node_modules from there, dist/ from the build stage.
  await mkdir(app);
  await cp(join(deps, "package.json"), join(app, "package.json"));
  await rename(join(deps, "node_modules"), join(app, "node_modules"));
  await run(
    join(root, "node_modules/.bin/tsc"),
    ["-p", "tsconfig.build.json", "--outDir", join(app, "dist")],
    { cwd: root, env: { ...process.env, PATH: toolPath } },
  );
});

after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

test("the Dockerfile's final stage is distroless Node 24, non-root, and copies only package.json, node_modules and dist", async () => {
  const stage = await finalStage();
  assert.match(stage[0]?.args ?? "", /^gcr\.io\/distroless\/nodejs24-debian12:nonroot$/);
  const workdir = stage.find((i) => i.keyword === "WORKDIR")?.args;
  assert.equal(workdir, "/app");
  const copies = stage
    .filter((i) => i.keyword === "COPY")
    .map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith("--")));
  assert.deepEqual(
    copies.map(([source, target]) => [source, target]),
    [
      ["/src/package.json", "./package.json"],
      ["/src/node_modules", "./node_modules"],
      ["/src/dist", "./dist"],
    ],
  );
  assert.deepEqual(
    stage.filter((i) => i.keyword === "COPY").map((i) => i.args.match(/--from=(\S+)/)?.[1]),
    ["production-dependencies", "production-dependencies", "build"],
  );
  assert.equal(stage.find((i) => i.keyword === "USER")?.args, "65532:65532");
  assert.ok(!stage.some((i) => i.keyword === "RUN"), "no RUN: the final image has no shell");
  const stages = await dockerfile();
  const stageArgs = (name: string) => {
    const start = stages.findIndex((i) => i.keyword === "FROM" && i.args.endsWith(` AS ${name}`));
    const end = stages.findIndex((i, n) => n > start && i.keyword === "FROM");
    return stages.slice(start, end).map((i) => `${i.keyword} ${i.args}`);
  };
  assert.ok(stageArgs("production-dependencies").some((line) => /^RUN npm ci --omit=dev\b/.test(line)));
  assert.ok(stageArgs("build").includes("RUN npm run build"));

  // What the test built is that layout, and node_modules holds production dependencies only.
  assert.deepEqual((await readdir(app)).sort(), ["dist", "node_modules", "package.json"]);
  // Against the lock file: every package npm marks dev-only is absent, every other one present.
  const lock = JSON.parse(await readFile(join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
  };
  const exists = (path: string) =>
    readFile(join(app, path, "package.json")).then(
      () => true,
      () => false,
    );
  let production = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith("node_modules/")) continue;
    if (entry.dev || entry.devOptional) assert.ok(!(await exists(path)), `dev-only ${path} left out`);
    else if (!entry.optional) {
      assert.ok(await exists(path), `${path} installed`);
      production++;
    }
  }
  assert.ok(production > 0);
  assert.ok(!(await exists("node_modules/typescript")), "no compiler at run time");
});

test(".dockerignore lets in exactly what the build stages copy", async () => {
  const ignore = (await readFile(join(root, ".dockerignore"), "utf8"))
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  assert.equal(ignore[0], "*", "everything is left out unless let in");
  const letIn = ignore.slice(1).map((l) => l.replace(/^!/, "").replace(/\/$/, ""));
  const copiedFromContext = (await dockerfile())
    .filter((i) => i.keyword === "COPY" && !i.args.includes("--from="))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    .map((source) => source.replace(/\/$/, ""));
  assert.deepEqual([...new Set(copiedFromContext)].sort(), [...letIn].sort());
});

test("the production layout runs as the image would: --help, then a controller that syncs, fills a placeholder and exits 0 on SIGTERM", async (t) => {
  const stage = await finalStage();
  const json = (keyword: string) =>
    JSON.parse(stage.find((i) => i.keyword === keyword)?.args ?? "[]") as string[];
  const [node, ...nodeArgs] = json("ENTRYPOINT");
  assert.equal(node, "/nodejs/bin/node", "the distroless image's node");
  assert.deepEqual(json("CMD"), ["run"]);
  // The ENTRYPOINT as written, with this machine's node and the temporary /app.
  const entrypoint = nodeArgs.map((a) => a.replace(/^\/app\//, `${app}/`));
  const env = { PATH: toolPath, NODE_ENV: "production" };

  const help = await run(process.execPath, [...entrypoint, "run", "--help"], { cwd: app, env });
  for (const flag of [
    "--kubeconfig",
    "--http-bind-address",
    "--leader-elect",
    "--leader-election-namespace",
    "--qps",
  ])
    assert.match(help.stdout, new RegExp(`${flag}\\b`));

  const namespace = await testNamespace(t, "prod");
  const identity = uniqueName("prod");
  await mkdir(join(root, ".run"), { recursive: true });
  const logPath = join(root, ".run", `${identity}.log`);
  const controller = startProcess(
    process.execPath,
    [
      ...entrypoint,
      ...json("CMD"),
      "--kubeconfig",
      process.env.SEC_E2E_KUBECONFIG ?? "",
      "--http-bind-address",
      "127.0.0.1:0",
      "--leader-election-id",
      identity,
    ],
    logPath,
    { ...env, POD_NAME: identity, POD_NAMESPACE: namespace },
  );
  t.after(() => controller.stop());
  const log = () => readFile(logPath, "utf8").catch(() => "");
  let port = 0;
  await waitUntil(
    "caches synced, leading and reconciling",
    60_000,
    async () => {
      const text = await log();
      port = Number(text.match(/"address":"[^"]*:(\d+)"/)?.[1] ?? 0);
      return port > 0 && /"msg":"caches synced/.test(text) && /"msg":"reconciling"/.test(text);
    },
    controller,
  );
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
  assert.match(
    await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    /^# TYPE workqueue_depth gauge$/m,
  );

  await createSource(namespace, "creds", { "prod.example.com": cred("prod-user", "prod-pw") });
  await createExport(t, namespace, "creds", { toNamespace: namespace });
  await createPlaceholder(namespace);
  await expectAuths(namespace, { "prod.example.com": cred("prod-user", "prod-pw") });

  controller.child.kill("SIGTERM");
  assert.equal(await controller.exited, 0, "SIGTERM ends the process with 0");
  // The exit can be seen before the last of stdout is in the file.
  await eventually("the last line logged", async () =>
    /"msg":"stopped"/.test((await log()).trim().split("\n").at(-1) ?? "") ? true : undefined,
  );
  const lines = (await log()).trim().split("\n");
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `pino JSON: ${line}`);
  assert.match(lines.at(-1) ?? "", /"msg":"stopped"/);
});
