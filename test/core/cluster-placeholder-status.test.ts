import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EVENT_CLUSTER_PLACEHOLDER_INVALID,
  REASON_INVALID_SPEC,
  REASON_NAMESPACES_NOT_SERVED,
  REASON_PROVISIONED,
  REASON_SECRET_EXISTS,
} from "../../src/constants.ts";
import type { Service } from "../../src/core/cluster-placeholder.ts";
import {
  clusterPlaceholderStatus,
  NOT_SERVED_LISTED,
  transitionEvent,
} from "../../src/core/cluster-placeholder-status.ts";

const NOW = "2026-12-02T05:00:00Z";
const occupied: NonNullable<Service> = { served: false, reason: REASON_SECRET_EXISTS, message: "in the way" };
const status = (
  services: [string, NonNullable<Service>][],
  problems?: { field: string; message: string }[],
) =>
  clusterPlaceholderStatus({ generation: 3, problems, services: new Map(services), previous: [], now: NOW });

test("all matching namespaces served: Ready, with the count and observedGeneration", () => {
  const { status: s, outcome } = status([
    ["a", { served: true }],
    ["b", { served: true }],
  ]);
  assert.equal(outcome.reason, REASON_PROVISIONED);
  assert.deepEqual(s, {
    observedGeneration: 3,
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: REASON_PROVISIONED,
        message: "Placeholder kept in 2 namespaces",
        observedGeneration: 3,
        lastTransitionTime: NOW,
      },
    ],
    namespacesServed: 2,
    namespacesNotServed: [],
    namespacesNotServedCount: 0,
  });
});

test("namespaces not served are listed by name with their reason, the list shortened, the count whole", () => {
  const services: [string, NonNullable<Service>][] = Array.from({ length: 25 }, (_, i) => [
    `ns-${String(i).padStart(2, "0")}`,
    occupied,
  ]);
  const { status: s, outcome } = status([...services, ["ok", { served: true }]]);
  assert.equal(outcome.ready, false);
  assert.equal(outcome.reason, REASON_NAMESPACES_NOT_SERVED);
  assert.match(
    outcome.message,
    /^25 namespaces matching but not served: ns-00 \(SecretExists\), ns-01 \(SecretExists\), ns-02 \(SecretExists\) and 22 more/,
  );
  assert.equal(s.namespacesServed, 1);
  assert.equal(s.namespacesNotServedCount, 25);
  assert.equal(s.namespacesNotServed.length, NOT_SERVED_LISTED);
  assert.deepEqual(s.namespacesNotServed[0], {
    namespace: "ns-00",
    reason: REASON_SECRET_EXISTS,
    message: "in the way",
  });
});

test("an invalid spec: Ready False InvalidSpec naming the fields, and what it made is kept", () => {
  const { outcome } = status([], [{ field: "spec.namespaces", message: "Expected at least one condition" }]);
  assert.deepEqual(outcome, {
    ready: false,
    reason: REASON_INVALID_SPEC,
    message:
      "spec.namespaces: Expected at least one condition. Placeholders it created are kept until the spec is valid again",
  });
});

test("Events on transitions of the Ready reason only", () => {
  const ok = { ready: true, reason: REASON_PROVISIONED, message: "m" };
  const bad = { ready: false, reason: REASON_NAMESPACES_NOT_SERVED, message: "m" };
  const invalid = { ready: false, reason: REASON_INVALID_SPEC, message: "m" };
  assert.equal(transitionEvent(REASON_PROVISIONED, ok), undefined);
  assert.deepEqual(transitionEvent(undefined, ok), {
    type: "Normal",
    reason: REASON_PROVISIONED,
    message: "m",
  });
  assert.deepEqual(transitionEvent(REASON_PROVISIONED, bad), {
    type: "Warning",
    reason: REASON_NAMESPACES_NOT_SERVED,
    message: "m",
  });
  assert.deepEqual(transitionEvent(undefined, invalid), {
    type: "Warning",
    reason: EVENT_CLUSTER_PLACEHOLDER_INVALID,
    message: "m",
  });
});
