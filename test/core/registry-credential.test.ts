import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CredentialRecord,
  credentialEvent,
  credentialStatus,
  dockerConfigOf,
  JITTER,
  mintedFrom,
  newRecord,
  planMint,
  readRecord,
  recordAnnotations,
  refreshAt,
  retryDelay,
  type StatusFacts,
} from "../../src/core/registry-credential.ts";

const T0 = Date.parse("2026-12-02T00:00:00Z");
const s = (seconds: number) => T0 + seconds * 1000;
const hour = 3600;

test("refresh: at half the reported lifetime by default, within the jitter bounds, for many seeds", () => {
  const record = { refreshedAt: s(0), expiresAt: s(12 * hour), mintedFrom: "1/" };
  const times = Array.from({ length: 500 }, (_, i) =>
    refreshAt(record, { lifetimeFraction: 0.5, marginMs: 300_000 }, `uid-${i}`),
  ).map(Number);
  const planned = s(6 * hour);
  for (const t of times) assert.ok(Math.abs(t - planned) <= 6 * hour * 1000 * JITTER + 1, `${t - planned}`);
  // The jitter spreads: not every credential refreshes at the same second.
  assert.ok(Math.max(...times) - Math.min(...times) > 6 * hour * 1000 * JITTER);
});

test("refresh: the same seed plans the same time (a restart does not move the refresh)", () => {
  const record = { refreshedAt: s(0), expiresAt: s(hour), mintedFrom: "1/" };
  const tuning = { lifetimeFraction: 0.5, marginMs: 0 };
  assert.equal(refreshAt(record, tuning, "uid/1"), refreshAt(record, tuning, "uid/1"));
});

const refreshCases: {
  name: string;
  lifetime: number;
  fraction: number;
  margin: number;
  within: [number, number];
}[] = [
  {
    name: "a 12 h ECR token, default tuning",
    lifetime: 12 * hour,
    fraction: 0.5,
    margin: 300,
    within: [5.4 * hour, 6.6 * hour],
  },
  {
    name: "fraction 0.9 is cut to the margin before expiry",
    lifetime: hour,
    fraction: 0.9,
    margin: 600,
    within: [0, 3000],
  },
  {
    name: "a margin longer than the lifetime still uses a tenth of it",
    lifetime: 10,
    fraction: 0.5,
    margin: 300,
    within: [1, 1],
  },
  { name: "a 10 s test lifetime, no margin", lifetime: 10, fraction: 0.5, margin: 0, within: [4.5, 5.5] },
];
for (const c of refreshCases) {
  test(`refresh: ${c.name}`, () => {
    const record = { refreshedAt: s(0), expiresAt: s(c.lifetime), mintedFrom: "1/" };
    const at = refreshAt(record, { lifetimeFraction: c.fraction, marginMs: c.margin * 1000 }, "seed");
    assert.ok(
      at !== undefined && at >= s(c.within[0]) && at <= s(c.within[1]),
      `${((at ?? 0) - T0) / 1000}s`,
    );
  });
}

test("refresh: a credential that does not expire is never refreshed on a schedule", () => {
  assert.equal(
    refreshAt({ refreshedAt: s(0), mintedFrom: "1/" }, { lifetimeFraction: 0.5, marginMs: 0 }, "x"),
    undefined,
  );
});

const retryCases: { name: string; failures: number; left: number | undefined; delay: number }[] = [
  { name: "first failure, far from expiry", failures: 1, left: 12 * hour, delay: 1 },
  { name: "doubles per failure", failures: 4, left: 12 * hour, delay: 8 },
  { name: "capped at five minutes", failures: 20, left: 12 * hour, delay: 300 },
  { name: "tightens to a quarter of the time left", failures: 20, left: 60, delay: 15 },
  { name: "never below a second", failures: 20, left: 2, delay: 1 },
  { name: "after expiry: the plain doubling", failures: 3, left: -5, delay: 4 },
  { name: "without expiry: the plain doubling", failures: 2, left: undefined, delay: 2 },
];
for (const c of retryCases) {
  test(`retry: ${c.name}`, () => {
    assert.equal(retryDelay(c.failures, s(0), c.left === undefined ? undefined : s(c.left)), c.delay * 1000);
  });
}

test("the record survives the Secret's annotations; a missing or unparsable one reads as none", () => {
  const record = newRecord(s(0) + 123, { auths: {}, expiresAt: new Date(s(60) + 999) }, "3/77");
  assert.deepEqual(record, { refreshedAt: s(0), expiresAt: s(60), mintedFrom: "3/77" });
  const annotations = Object.fromEntries(
    Object.entries(recordAnnotations(record)).filter((e): e is [string, string] => e[1] !== null),
  );
  assert.deepEqual(readRecord(annotations), record);
  assert.equal(readRecord({}), undefined);
  assert.equal(readRecord({ ...annotations, "secret-export.dev/expires-at": "soon" }), undefined);
  assert.equal(
    recordAnnotations({ refreshedAt: s(0), mintedFrom: "1/" })["secret-export.dev/expires-at"],
    null,
  );
});

const spec = { ecr: { region: "eu-west-1" } };
const secretWith = (record: CredentialRecord) => ({
  owned: true,
  filled: true,
  annotations: Object.fromEntries(
    Object.entries(recordAnnotations(record)).filter((e): e is [string, string] => e[1] !== null),
  ),
});
const fresh = { refreshedAt: s(0), expiresAt: s(1000), mintedFrom: mintedFrom(2, "9") };
const mintCases: {
  name: string;
  secret: ReturnType<typeof secretWith> | undefined;
  generation: number;
  input: string;
  now: number;
  mint: string | false;
}[] = [
  { name: "no Secret yet", secret: undefined, generation: 2, input: "9", now: s(1), mint: "missing" },
  {
    name: "a Secret without a record",
    secret: { owned: true, filled: true, annotations: {} },
    generation: 2,
    input: "9",
    now: s(1),
    mint: "missing",
  },
  {
    name: "still fresh after a restart: not minted again",
    secret: secretWith(fresh),
    generation: 2,
    input: "9",
    now: s(10),
    mint: false,
  },
  {
    name: "the refresh is due",
    secret: secretWith(fresh),
    generation: 2,
    input: "9",
    now: s(700),
    mint: "due",
  },
  {
    name: "the spec changed",
    secret: secretWith(fresh),
    generation: 3,
    input: "9",
    now: s(10),
    mint: "changed",
  },
  {
    name: "the input Secret changed (rotation)",
    secret: secretWith(fresh),
    generation: 2,
    input: "10",
    now: s(10),
    mint: "changed",
  },
];
for (const c of mintCases) {
  test(`mint: ${c.name}`, () => {
    const plan = planMint({
      generation: c.generation,
      uid: "u",
      spec,
      secret: c.secret,
      inputVersion: c.input,
      now: c.now,
    });
    assert.equal(plan.mint ? plan.why : false, c.mint);
  });
}

test("the dockerconfigjson of a minted credential carries username, password and auth, keys sorted", () => {
  const json = dockerConfigOf({
    auths: {
      "z.example": { username: "u", password: "p" },
      "a.example": { username: "AWS", password: "tok" },
    },
  });
  assert.equal(
    json,
    '{"auths":{"a.example":{"username":"AWS","password":"tok","auth":"QVdTOnRvaw=="},"z.example":{"username":"u","password":"p","auth":"dTpw"}}}',
  );
});

const base: StatusFacts = {
  generation: 2,
  provider: "ecr",
  previous: {},
  now: s(10),
  record: fresh,
  registries: ["1.dkr.ecr.eu-west-1.amazonaws.com"],
  identity: "arn:aws:iam::1:role/pull",
  nextRefresh: s(50),
  problem: undefined,
  minted: true,
};

test("status after a refresh: Ready Refreshed, every timing field, failures reset", () => {
  const { status, outcome } = credentialStatus({ ...base, previous: { consecutiveFailures: 3 } });
  assert.equal(outcome.reason, "Refreshed");
  assert.deepEqual(
    { ...status, conditions: undefined },
    {
      observedGeneration: 2,
      conditions: undefined,
      provider: "ecr",
      registries: ["1.dkr.ecr.eu-west-1.amazonaws.com"],
      identity: "arn:aws:iam::1:role/pull",
      expiresAt: "2026-12-02T00:16:40Z",
      lastRefreshTime: "2026-12-02T00:00:00Z",
      nextRefreshTime: "2026-12-02T00:00:50Z",
      consecutiveFailures: 0,
    },
  );
  assert.equal(status.conditions?.[0]?.status, "True");
});

const problemCases: {
  name: string;
  facts: Partial<StatusFacts>;
  reason: string;
  failures: number;
  message: RegExp;
}[] = [
  {
    name: "a failed refresh while the credential still works: RefreshFailed, the Secret keeps it",
    facts: {
      problem: { reason: "RefreshFailed", message: "ECR GetAuthorizationToken: HTTP 403 AccessDenied" },
    },
    reason: "RefreshFailed",
    failures: 2,
    message: /HTTP 403 AccessDenied; the Secret keeps its last credential/,
  },
  {
    name: "a failed refresh after expiry: CredentialExpired",
    facts: { now: s(2000), problem: { reason: "RefreshFailed", message: "connection refused" } },
    reason: "CredentialExpired",
    failures: 2,
    message: /expired at 2026-12-02T00:16:40Z and could not be refreshed: connection refused/,
  },
  {
    name: "a Secret of that name not ours: SecretExists, not counted as a refresh failure",
    facts: { record: undefined, problem: { reason: "SecretExists", message: "exists" } },
    reason: "SecretExists",
    failures: 1,
    message: /exists/,
  },
  {
    name: "an invalid spec names the field",
    facts: { problem: { reason: "InvalidSpec", problems: [{ field: "spec", message: "exactly one" }] } },
    reason: "InvalidSpec",
    failures: 1,
    message: /^Validation errors:\nspec: exactly one$/,
  },
];
for (const c of problemCases) {
  test(`status: ${c.name}`, () => {
    const { status, outcome } = credentialStatus({
      ...base,
      previous: { consecutiveFailures: 1 },
      ...c.facts,
    });
    assert.equal(outcome.reason, c.reason);
    assert.equal(outcome.ready, false);
    assert.match(outcome.message, c.message);
    assert.equal(status.consecutiveFailures, c.failures);
  });
}

test("Events on transitions of the Ready reason only", () => {
  const failed = { ready: false, reason: "RefreshFailed", message: "m" };
  assert.deepEqual(credentialEvent("Refreshed", failed), {
    type: "Warning",
    reason: "RefreshFailed",
    message: "m",
  });
  assert.equal(credentialEvent("RefreshFailed", failed), undefined);
  assert.equal(
    credentialEvent("CredentialExpired", { ready: false, reason: "CredentialExpired", message: "m" }),
    undefined,
  );
  assert.deepEqual(credentialEvent("RefreshFailed", { ready: true, reason: "Refreshed", message: "ok" }), {
    type: "Normal",
    reason: "Refreshed",
    message: "ok",
  });
  assert.equal(credentialEvent("Refreshed", { ready: true, reason: "Refreshed", message: "ok" }), undefined);
});
