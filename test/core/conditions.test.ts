import assert from "node:assert/strict";
import { test } from "node:test";
import type { Condition } from "../../src/core/types.ts";
import {
  friendlyDescription,
  genericStatus,
  reconcileConditions,
  setCondition,
  statusChanged,
} from "../../src/core/conditions.ts";

const T0 = "2025-01-01T00:00:00Z";
const T1 = "2025-01-01T00:05:00Z";

const ready = (status: "True" | "False", lastTransitionTime = T0): Condition => ({
  type: "Ready",
  status,
  reason: "Exported",
  message: "Exported to 2 namespaces",
  lastTransitionTime,
  observedGeneration: 1,
});

test("setCondition appends a condition of a new type, transitioned now", () => {
  const other: Condition = { type: "Other", status: "True" };
  assert.deepEqual(setCondition([other], { type: "Ready", status: "True", reason: "Exported" }, T1), [
    other,
    { type: "Ready", status: "True", reason: "Exported", lastTransitionTime: T1 },
  ]);
});

test("setCondition keeps lastTransitionTime when only reason, message or generation change", () => {
  const next = {
    type: "Ready",
    status: "True",
    reason: "Imported",
    message: "new",
    observedGeneration: 2,
  } as const;
  assert.deepEqual(setCondition([ready("True")], next, T1), [{ ...next, lastTransitionTime: T0 }]);
});

test("setCondition moves lastTransitionTime when status changes", () => {
  const [updated] = setCondition([ready("True")], { type: "Ready", status: "False", reason: "Conflict" }, T1);
  assert.equal(updated?.lastTransitionTime, T1);
});

test("setCondition stamps a condition that had no lastTransitionTime", () => {
  const [updated] = setCondition([{ type: "Ready", status: "True" }], { type: "Ready", status: "True" }, T1);
  assert.equal(updated?.lastTransitionTime, T1);
});

test("setCondition replaces in place, keeps the others, and leaves its input alone", () => {
  const before: Condition[] = [{ type: "A", status: "True" }, ready("True"), { type: "B", status: "False" }];
  const snapshot = structuredClone(before);
  const after = setCondition(before, { type: "Ready", status: "False", reason: "Conflict" }, T1);
  assert.deepEqual(
    after.map((c) => c.type),
    ["A", "Ready", "B"],
  );
  assert.deepEqual(before, snapshot);
});

test("friendlyDescription is carvel's `Reconcile succeeded` without a failure", () => {
  assert.equal(friendlyDescription(), "Reconcile succeeded");
});

const FRIENDLY: [string, string, string][] = [
  ["a one-line message whole", "Missing exported secret", "Reconcile failed: Missing exported secret"],
  [
    "`...` after the first of several lines",
    "Validation errors:\n- Expected to be non-empty",
    "Reconcile failed: Validation errors:...",
  ],
  ["a first line of exactly 80 bytes whole", "x".repeat(62), `Reconcile failed: ${"x".repeat(62)}`],
  ["a longer first line cut to 80 bytes and `...`", "x".repeat(63), `Reconcile failed: ${"x".repeat(62)}...`],
  [
    "a long first line cut with one `...` when more lines follow",
    `${"y".repeat(100)}\nmore`,
    `Reconcile failed: ${"y".repeat(62)}...`,
  ],
  ["an empty message as carvel would", "", "Reconcile failed: "],
  ["a cut that never splits a character", `${"x".repeat(61)}é`, `Reconcile failed: ${"x".repeat(61)}...`],
];

for (const [behaviour, message, expected] of FRIENDLY) {
  test(`friendlyDescription keeps ${behaviour}`, () => {
    assert.equal(friendlyDescription(message), expected);
  });
}

test("friendlyDescription counts bytes as carvel does: a two-byte character fits exactly at 80", () => {
  assert.equal(friendlyDescription(`${"x".repeat(60)}é`), `Reconcile failed: ${"x".repeat(60)}é`);
});

test("a ready outcome gives carvel's bare ReconcileSucceeded, then Ready=True", () => {
  const outcome = { ready: true, reason: "Exported", message: "Exported to 2 namespaces" };
  assert.deepEqual(reconcileConditions(outcome, 3, T1), [
    { type: "ReconcileSucceeded", status: "True" },
    {
      type: "Ready",
      status: "True",
      reason: "Exported",
      message: "Exported to 2 namespaces",
      observedGeneration: 3,
      lastTransitionTime: T1,
    },
  ]);
});

test("a failed outcome gives carvel's ReconcileFailed with the message, then Ready=False", () => {
  const outcome = { ready: false, reason: "SecretNotFound", message: "Missing exported secret" };
  assert.deepEqual(reconcileConditions(outcome, 1, T1), [
    { type: "ReconcileFailed", status: "True", message: "Missing exported secret" },
    {
      type: "Ready",
      status: "False",
      reason: "SecretNotFound",
      message: "Missing exported secret",
      observedGeneration: 1,
      lastTransitionTime: T1,
    },
  ]);
});

test("the conditions replace whatever carvel left, keeping exactly one carvel condition", () => {
  const carvelLeft: Condition[] = [
    { type: "ReconcileFailed", status: "True", message: "Missing exported secret" },
    { type: "Reconciling", status: "True" },
  ];
  const outcome = { ready: true, reason: "Exported", message: "ok" };
  assert.deepEqual(
    reconcileConditions(outcome, 1, T1, carvelLeft).map((c) => c.type),
    ["ReconcileSucceeded", "Ready"],
  );
});

test("Ready keeps its lastTransitionTime while its status holds, and moves when it flips", () => {
  const stillReady = { ready: true, reason: "Exported", message: "Exported to 3 namespaces" };
  assert.equal(reconcileConditions(stillReady, 2, T1, [ready("True")])[1]?.lastTransitionTime, T0);
  const broken = { ready: false, reason: "Conflict", message: "conflict" };
  assert.equal(reconcileConditions(broken, 2, T1, [ready("True")])[1]?.lastTransitionTime, T1);
});

test("genericStatus carries the generation, the conditions and carvel's friendlyDescription", () => {
  const outcome = {
    ready: false,
    reason: "InvalidSpec",
    message: "Validation errors:\n- toNamespaces[0]: bad",
  };
  assert.deepEqual(genericStatus(outcome, 4, T1), {
    observedGeneration: 4,
    conditions: reconcileConditions(outcome, 4, T1),
    friendlyDescription: "Reconcile failed: Validation errors:...",
  });
  assert.equal(
    genericStatus({ ready: true, reason: "Imported", message: "ok" }, 1, T1).friendlyDescription,
    "Reconcile succeeded",
  );
});

test("a status rebuilt from itself is unchanged: the controller writes nothing", () => {
  const outcome = { ready: true, reason: "Exported", message: "Exported to 2 namespaces" };
  const stored = { ...genericStatus(outcome, 1, T0), namespacesReached: 2 };
  const desired = { ...genericStatus(outcome, 1, T1, stored.conditions), namespacesReached: 2 };
  assert.equal(statusChanged(stored, desired), false);
});

test("statusChanged ignores key order, condition order and null-versus-absent fields", () => {
  const desired = { observedGeneration: 1, conditions: [{ type: "A", status: "True" }, ready("True")] };
  const stored = {
    conditions: [
      { ...ready("True"), reason: "Exported" },
      { status: "True", type: "A", message: null },
    ],
    observedSecretResourceVersion: null,
    observedGeneration: 1,
  };
  assert.equal(statusChanged(stored, desired), false);
});

test("statusChanged sees a new generation, message, condition or transition time", () => {
  const desired = {
    observedGeneration: 2,
    conditions: [ready("True")],
    friendlyDescription: "Reconcile succeeded",
  };
  assert.equal(statusChanged({ ...desired, observedGeneration: 1 }, desired), true);
  assert.equal(
    statusChanged({ ...desired, conditions: [{ ...ready("True"), message: "old" }] }, desired),
    true,
  );
  assert.equal(statusChanged({ ...desired, conditions: [] }, desired), true);
  assert.equal(statusChanged({ ...desired, conditions: [ready("True", T1)] }, desired), true);
});

test("statusChanged sees a first status on an object that has none", () => {
  assert.equal(statusChanged(undefined, { observedGeneration: 1, conditions: [] }), true);
  assert.equal(statusChanged(undefined, {}), false);
});
