// The leader elector against a scripted lease endpoint and virtual time: every attempt has a deadline,
// and a leader that could not renew within the renew deadline stops, whatever its requests are doing.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test, type TestContext } from "node:test";
import { pino } from "pino";
import { leaderElector, leaderIdentity } from "../../src/runtime/leader-election.ts";
import type { Clock } from "../../src/runtime/work-queue.ts";
import { fakeClock, settled } from "./fake-clock.ts";
import { answer, type Recorded, scriptedServer, status, until } from "./scripted-server.ts";

const LEASE_MS = 15_000;
const RENEW_MS = 10_000;
const RETRY_MS = 2_000;

/** A Lease endpoint: answered by `script` (undefined: never answered), the lease kept as written. */
async function leaseServer(t: TestContext, script: (request: Recorded) => "answer" | "hang") {
  let lease: { metadata: Record<string, unknown>; spec: Record<string, unknown> } | undefined;
  const server = await scriptedServer((request, res: ServerResponse) => {
    if (script(request) === "hang") return;
    if (request.method === "GET") {
      if (lease === undefined) return answer(res, 404, status(404, "NotFound"));
      return answer(res, 200, lease);
    }
    const body = JSON.parse(request.body) as NonNullable<typeof lease>;
    lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(server.requests.length) } };
    answer(res, request.method === "POST" ? 201 : 200, lease);
  });
  t.after(() => server.close());
  return server;
}

function elect(t: TestContext, server: Awaited<ReturnType<typeof leaseServer>>, clock: Clock) {
  const elector = leaderElector({
    http: server.http,
    namespace: "default",
    name: "lease",
    identity: "me",
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_MS,
    retryPeriodMs: RETRY_MS,
    log: pino({ level: "silent" }),
    clock,
  });
  t.after(() => elector.stop());
  return elector;
}

test("a leader whose renewals are never answered gives up at the renew deadline", async (t) => {
  let hang = false;
  const server = await leaseServer(t, () => (hang ? "hang" : "answer"));
  const clock = fakeClock();
  const elector = elect(t, server, clock);
  await elector.acquired();
  hang = true;
  await clock.advance(RETRY_MS);
  assert.ok(await until(() => server.open() === 1), "a renewal is in flight");
  await clock.advance(RENEW_MS - RETRY_MS - 1);
  assert.equal(await settled(elector.lost()), false, "still leading just before the renew deadline");
  assert.equal(elector.leading(), true);
  await clock.advance(1);
  assert.equal(await settled(elector.lost()), true, "gave up at the renew deadline");
  assert.equal(elector.leading(), false);
  assert.ok(await until(() => server.open() === 0), "the hanging renewal was abandoned");
});

test("a leader frozen past its renew deadline is not leading the moment it resumes, before any timer runs", async (t) => {
  const server = await leaseServer(t, () => "answer");
  const clock = fakeClock();
  let frozenMs = 0;
  const elector = elect(t, server, { ...clock, now: () => clock.now() + frozenMs });
  await elector.acquired();
  assert.equal(elector.leading(), true);
  frozenMs = RENEW_MS; // SIGSTOP, then SIGCONT: the monotonic clock moved on, no timer has fired yet
  assert.equal(elector.leading(), false);
});

test("a campaign attempt that is never answered is abandoned at the renew deadline and retried", async (t) => {
  const server = await leaseServer(t, (request) => (request.call === 1 ? "hang" : "answer"));
  const clock = fakeClock();
  const elector = elect(t, server, clock);
  assert.ok(await until(() => server.open() === 1));
  await clock.advance(RENEW_MS);
  assert.ok(await until(() => server.open() === 0), "the first attempt was abandoned");
  await clock.advance(RETRY_MS);
  await until(() => server.requests.length >= 3);
  assert.equal(await settled(elector.acquired()), true);
});

test("two processes with one pod name get different identities, both naming the pod", () => {
  const [a, b] = [leaderIdentity("pod-0"), leaderIdentity("pod-0")];
  assert.notEqual(a, b);
  assert.ok(a.startsWith("pod-0_") && b.startsWith("pod-0_"), `${a} ${b}`);
});
