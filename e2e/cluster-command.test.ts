// `npm run cluster` is what people and scripts use; it must give a cluster kubectl can use and
// leave no process behind when stopped.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

async function processesUsing(dir: string): Promise<string[]> {
  const { stdout } = await run("ps", ["-eo", "pid,args"]);
  return stdout.split("\n").filter((line) => line.includes(dir) && !line.includes("ps -eo"));
}

test("npm run cluster serves kubectl and SIGTERM leaves no process behind", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sec-cluster-cmd-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, "kubeconfig");
  const child = spawn("npm", ["run", "--silent", "cluster", "--", "--kubeconfig", kubeconfig], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => child.kill("SIGKILL"));
  const exited = new Promise((r) => child.once("exit", r));

  const ready = await new Promise<string>((resolveLine, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolveLine(out.trim());
    });
    child.once("exit", (code) => reject(new Error(`npm run cluster exited with ${code} before ready`)));
  });
  assert.match(ready, /^cluster ready at https:\/\/127\.0\.0\.1:\d+; kubeconfig written to /);

  const { stdout } = await run("kubectl", [
    "--kubeconfig",
    kubeconfig,
    "get",
    "namespace",
    "default",
    "-o",
    "name",
  ]);
  assert.equal(stdout.trim(), "namespace/default");

  const { stdout: config } = await run("kubectl", [
    "--kubeconfig",
    kubeconfig,
    "config",
    "view",
    "--raw",
    "-o",
    "jsonpath={.users[0].user.client-certificate}",
  ]);
  const certDir = config.slice(0, config.lastIndexOf("/"));
  assert.ok(
    (await processesUsing(certDir)).length >= 3,
    "etcd, kube-apiserver and kube-controller-manager run",
  );

  child.kill("SIGTERM");
  await exited;
  assert.deepEqual(await processesUsing(certDir), []);
});
