import assert from "node:assert/strict";
import { test } from "node:test";
import { ANNOTATION_STATUS, DOCKER_CONFIG_JSON_KEY, REASON_WRITE_REJECTED } from "../../src/constants.ts";
import { rejectedOutcome } from "../../src/core/api-errors.ts";
import type { PlaceholderState } from "../../src/core/placeholder-patch.ts";
import { placeholderRejection, rejectionTransition } from "../../src/core/rejections.ts";

const denied = rejectedOutcome("Invalid", "ValidatingAdmissionPolicy 'freeze' denied request: frozen");
const warning = { type: "Warning", reason: REASON_WRITE_REJECTED, message: denied.message };

test("a refused write is one Warning Event WriteRejected with the server's reason and message, none once reported", () => {
  assert.deepEqual(rejectionTransition(false, denied), { transitioned: true, events: [warning] });
  assert.deepEqual(rejectionTransition(true, denied), { transitioned: false, events: [] });
});

const condition = {
  type: "ReconcileFailed",
  status: "True",
  reason: REASON_WRITE_REJECTED,
  message: denied.message,
};
const provenance = { secretNames: ["infra/creds"], sources: { "docker.io": "infra/creds" } };
const filled = JSON.stringify({
  conditions: [{ type: "ReconcileSucceeded", status: "True" }],
  ...provenance,
});
const rejected = JSON.stringify({ conditions: [condition], ...provenance });
const placeholder = (status: string | undefined): PlaceholderState => ({
  resourceVersion: "7",
  data: { [DOCKER_CONFIG_JSON_KEY]: "e30=" },
  annotations: status === undefined ? {} : { [ANNOTATION_STATUS]: status },
});
const annotationOnly = (status: string) => ({
  metadata: { resourceVersion: "7", annotations: { [ANNOTATION_STATUS]: status } },
});

test("a placeholder whose fill is refused: a status-annotation-only patch saying WriteRejected, provenance kept, and the Event on the transition only", () => {
  const rows: [
    what: string,
    status: string | undefined,
    reported: boolean,
    patch: unknown,
    events: unknown[],
  ][] = [
    ["filled before, first refusal", filled, false, annotationOnly(rejected), [warning]],
    [
      "no status yet, first refusal",
      undefined,
      false,
      annotationOnly(JSON.stringify({ conditions: [condition] })),
      [warning],
    ],
    ["refused again, annotation already written", rejected, true, undefined, []],
    ["the annotation written by an earlier process (a restart)", rejected, false, undefined, []],
    ["reported by this process, the annotation refused too", filled, true, annotationOnly(rejected), []],
  ];
  for (const [what, status, reported, patch, events] of rows) {
    const decision = placeholderRejection(placeholder(status), denied, reported);
    assert.deepEqual(decision.patch, patch, what);
    assert.deepEqual(decision.transition.events, events, what);
  }
});

test("a placeholder refused for another reason than before gets the new message, and no second Event", () => {
  const other = rejectedOutcome("Forbidden", 'secrets "pull" is forbidden: User cannot update');
  const decision = placeholderRejection(placeholder(rejected), other, false);
  const written = decision.patch?.metadata.annotations?.[ANNOTATION_STATUS];
  assert.match(String(written), /"message":"Forbidden: secrets \\"pull\\" is forbidden/);
  assert.deepEqual(decision.transition.events, []);
});

test("the WriteRejected status never carries the refused data", () => {
  const echoing = rejectedOutcome("Invalid", 'Secret "pull" is invalid: data: Invalid value: "c2VjcmV0": no');
  const decision = placeholderRejection(placeholder(filled), echoing, false);
  assert.doesNotMatch(JSON.stringify(decision), /c2VjcmV0/);
});
