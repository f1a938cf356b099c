// What an operator relies on: metrics that move with the work, probes, logs without Secret data,
// a clear exit on bad configuration, and a clean exit on SIGTERM.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { before, test } from "node:test";
import { promisify } from "node:util";
import { testNamespace } from "./support/cluster.ts";
import { installCrds } from "./support/controller.ts";
import { sample, startControllerProcess } from "./support/controller-process.ts";
import {
  cred,
  createExport,
  createPlaceholder,
  createSource,
  expectAuths,
  updateSource,
} from "./support/fixtures.ts";

const run = promisify(execFile);
const cli = join(resolve(import.meta.dirname, ".."), "src/cli.ts");

before(async () => {
  await installCrds();
  await mkdir(".run", { recursive: true });
});

test("metrics count the reconciles, writes and placeholders of a scenario, and no credential appears in logs or metrics", async (t) => {
  const namespace = await testNamespace(t, "ops");
  const app = await testNamespace(t, "ops-app");
  const controller = startControllerProcess([
    "--kubeconfig",
    process.env.SEC_E2E_KUBECONFIG ?? "",
    "--leader-elect",
    "false",
    "--log-level",
    "debug",
  ]);
  t.after(() => controller.stop());
  const port = await controller.port();
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);

  const before = await controller.metrics();
  await createSource(namespace, "creds", { "metrics.example.com": cred("ops-user", "first-secret-pw") });
  await createExport(t, namespace, "creds", { toNamespace: app });
  await createPlaceholder(app);
  await expectAuths(app, { "metrics.example.com": cred("ops-user", "first-secret-pw") });
  await updateSource(namespace, "creds", { "metrics.example.com": cred("ops-user", "second-secret-pw") });
  await expectAuths(app, { "metrics.example.com": cred("ops-user", "second-secret-pw") });

  assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
  const after = await controller.metrics();
  const grew = (name: string, labels: Record<string, string>) =>
    sample(after, name, labels) - sample(before, name, labels);
  assert.ok(
    grew("controller_runtime_reconcile_total", { controller: "placeholder", result: "success" }) >= 2,
  );
  assert.ok(
    grew("controller_runtime_reconcile_total", { controller: "secretexport", result: "success" }) >= 1,
  );
  assert.ok(grew("workqueue_adds_total", { name: "placeholder" }) >= 2);
  assert.ok(
    grew("rest_client_requests_total", { method: "PATCH", code: "200" }) >= 2,
    "placeholder and status writes",
  );
  assert.ok(sample(after, "secret_export_placeholders", { state: "filled" }) >= 1);
  assert.ok(sample(after, "secret_export_exports", { reason: "Exported" }) >= 1);
  assert.match(after, /controller_runtime_reconcile_time_seconds_bucket/);

  controller.child.kill("SIGTERM");
  assert.equal(await controller.exited, 0, "SIGTERM ends the process with 0");
  const logs = await controller.log();
  // Writes are summed up at info (flushed at shutdown at the latest); the per-object line is debug.
  const written = logs
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { msg?: string; written?: { placeholder?: number } })
    .filter((entry) => entry.msg === "objects written")
    .reduce((sum, entry) => sum + (entry.written?.placeholder ?? 0), 0);
  assert.ok(written >= 2, `the placeholder writes were logged: ${written}`);
  for (const secret of [
    "first-secret-pw",
    "second-secret-pw",
    Buffer.from("ops-user:first-secret-pw").toString("base64"),
  ]) {
    assert.ok(!logs.includes(secret), `the logs never contain ${secret}`);
    assert.ok(!after.includes(secret), `the metrics never contain ${secret}`);
  }
  for (const line of logs.trim().split("\n")) {
    const entry = JSON.parse(line) as { controller?: string; key?: string; reconcileId?: string };
    if (entry.controller !== undefined)
      assert.ok(entry.key && entry.reconcileId, `reconcile lines carry key and id: ${line}`);
  }
});

test("a bad flag value exits with 2 and names the flag", async () => {
  const failure = await run(process.execPath, [cli, "run", "--concurrency", "0"]).then(
    () => undefined,
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(failure?.code, 2);
  assert.match(failure?.stderr ?? "", /--concurrency \(SEC_CONCURRENCY\)/);
});

test("--help lists every option with its environment variable", async () => {
  const { stdout } = await run(process.execPath, [cli, "run", "--help"]);
  for (const option of [
    "--kubeconfig",
    "--qps",
    "--burst",
    "--leader-elect",
    "--http-bind-address",
    "--log-level",
  ]) {
    assert.match(stdout, new RegExp(`${option}\\b`));
  }
  assert.match(stdout, /\$SEC_QPS {2}\(default 500\)/);
});
