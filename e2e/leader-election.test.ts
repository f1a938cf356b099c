// Two replicas against one API server: exactly one writes, and leadership moves when the leader
// dies (within the lease duration) or stops (at once, because it releases the lease).
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { before, test } from "node:test";
import { eventually, leaseHolder, testNamespace } from "./support/cluster.ts";
import { installCrds } from "./support/controller.ts";
import { type ControllerProcess, sample, startControllerProcess } from "./support/controller-process.ts";
import { cred, createExport, createPlaceholder, createSource, expectAuths } from "./support/fixtures.ts";

const LEASE_SECONDS = 6;

before(async () => {
  await installCrds();
  await mkdir(".run", { recursive: true });
});

function replicas(leaseNamespace: string): ControllerProcess[] {
  const args = [
    "--kubeconfig",
    process.env.SEC_E2E_KUBECONFIG ?? "",
    "--leader-election-namespace",
    leaseNamespace,
    "--lease-duration",
    String(LEASE_SECONDS),
    "--renew-deadline",
    "4",
    "--retry-period",
    "0.5",
  ];
  return [startControllerProcess(args), startControllerProcess(args)];
}

async function leaderAndStandby(namespace: string, procs: ControllerProcess[]) {
  const leaderId = await eventually("a leader", () => leaseHolder(namespace));
  const leader = procs.find((p) => p.identity === leaderId);
  const standby = procs.find((p) => p.identity !== leaderId);
  assert.ok(leader && standby, `the lease holder ${leaderId} is one of the replicas`);
  return { leader, standby };
}

test("with two replicas exactly one holds the lease and only it writes", async (t) => {
  const namespace = await testNamespace(t, "lease");
  const procs = replicas(namespace);
  t.after(() => Promise.all(procs.map((p) => p.stop())));
  const { leader, standby } = await leaderAndStandby(namespace, procs);
  await createSource(namespace, "creds", { "one.example.com": cred("u", "p") });
  await createExport(t, namespace, "creds", { toNamespace: namespace });
  await createPlaceholder(namespace);
  await expectAuths(namespace, { "one.example.com": cred("u", "p") });

  const [leaderMetrics, standbyMetrics] = [await leader.metrics(), await standby.metrics()];
  assert.equal(sample(leaderMetrics, "leader_election_master_status"), 1);
  assert.equal(sample(standbyMetrics, "leader_election_master_status"), 0);
  assert.ok(sample(leaderMetrics, "rest_client_requests_total", { method: "PATCH" }) > 0, "the leader wrote");
  // Both replicas may race to create the Lease; the loser's POST is refused (409) and writes nothing.
  for (const [method, code] of [
    ["PATCH", "200"],
    ["POST", "201"],
    ["DELETE", "200"],
  ] as const) {
    assert.equal(
      sample(standbyMetrics, "rest_client_requests_total", { method, code }),
      0,
      `the standby wrote no ${method}`,
    );
  }
});

test("when the leader is killed the standby takes over within the lease duration", async (t) => {
  const namespace = await testNamespace(t, "lease");
  const procs = replicas(namespace);
  t.after(() => Promise.all(procs.map((p) => p.stop())));
  const { leader, standby } = await leaderAndStandby(namespace, procs);
  leader.child.kill("SIGKILL");
  const killedAt = Date.now();
  await eventually(
    "the standby leads",
    async () => ((await leaseHolder(namespace)) === standby.identity ? true : undefined),
    30_000,
  );
  const takeoverMs = Date.now() - killedAt;
  assert.ok(takeoverMs <= (LEASE_SECONDS + 2) * 1000, `took over after ${takeoverMs} ms`);

  // and it does the work: a new placeholder is filled
  await createSource(namespace, "creds", { "two.example.com": cred("u", "p") });
  await createExport(t, namespace, "creds", { toNamespace: namespace });
  await createPlaceholder(namespace);
  await expectAuths(namespace, { "two.example.com": cred("u", "p") });
});

test("SIGTERM on the leader releases the lease and the standby takes over at once", async (t) => {
  const namespace = await testNamespace(t, "lease");
  const procs = replicas(namespace);
  t.after(() => Promise.all(procs.map((p) => p.stop())));
  const { leader, standby } = await leaderAndStandby(namespace, procs);
  await standby.port(); // its caches are warm by now
  const stoppedAt = Date.now();
  leader.child.kill("SIGTERM");
  assert.equal(await leader.exited, 0, "the leader exits 0");
  await eventually(
    "the standby leads",
    async () => ((await leaseHolder(namespace)) === standby.identity ? true : undefined),
    30_000,
  );
  const takeoverMs = Date.now() - stoppedAt;
  // Without the release the standby would wait out the whole lease duration.
  assert.ok(takeoverMs < (LEASE_SECONDS * 1000) / 2, `took over after ${takeoverMs} ms`);
  assert.match(await leader.log(), /released the lease/);
});
