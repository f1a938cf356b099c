import assert from "node:assert/strict";
import { test } from "node:test";
import type { Readiness } from "../../src/core/conditions.ts";
import type { Conflict } from "../../src/core/placeholder.ts";
import {
  exportTransition,
  importTransition,
  placeholderConflictTransition,
  readyReason,
  type Transition,
} from "../../src/core/transitions.ts";

const notReady = (reason: string, message = `${reason} message`): Readiness => ({
  ready: false,
  reason,
  message,
});
const ready = (reason: string, message = `${reason} message`): Readiness => ({
  ready: true,
  reason,
  message,
});
const NONE: Transition = { transitioned: false, events: [] };
const silent: Transition = { transitioned: true, events: [] };
const warning = (reason: string, message: string): Transition => ({
  transitioned: true,
  events: [{ type: "Warning", reason, message }],
});
const resolved = {
  type: "Normal",
  reason: "ConflictResolved",
  message: "No registry conflicts remain",
} as const;

test("readyReason is the Ready condition's reason, undefined without one", () => {
  const conditions = [
    { type: "ReconcileSucceeded", status: "True" },
    { type: "Ready", status: "True", reason: "Exported" },
  ] as const;
  assert.equal(readyReason(conditions), "Exported");
  assert.equal(readyReason([{ type: "ReconcileSucceeded", status: "True" }]), undefined);
  assert.equal(readyReason(undefined), undefined);
});

const exportRows: [string, string | undefined, Readiness, Transition][] = [
  ["the same Ready reason is no transition and no Event", "Conflict", notReady("Conflict"), NONE],
  ["the same reason with a new message is no transition", "Exported", ready("Exported", "to 3"), NONE],
  ["a first status that is Exported records no Event", undefined, ready("Exported"), silent],
  [
    "a conflict appearing records ConflictDetected with the status message",
    "Exported",
    notReady("Conflict", "conflicts at r"),
    warning("ConflictDetected", "conflicts at r"),
  ],
  [
    "a first status that is a conflict records ConflictDetected",
    undefined,
    notReady("Conflict", "conflicts at r"),
    warning("ConflictDetected", "conflicts at r"),
  ],
  [
    "an invalid spec records ExportInvalid with the status message",
    "Exported",
    notReady("InvalidSpec", "Validation errors"),
    warning("ExportInvalid", "Validation errors"),
  ],
  [
    "an invalid .dockerconfigjson records ExportInvalid",
    "Exported",
    notReady("InvalidDockerConfig", "bad json"),
    warning("ExportInvalid", "bad json"),
  ],
  [
    "a source that is a placeholder records ExportInvalid",
    "Exported",
    notReady("SourceIsPlaceholder", "is a placeholder"),
    warning("ExportInvalid", "is a placeholder"),
  ],
  [
    "from one invalid reason to the other records ExportInvalid again",
    "InvalidSpec",
    notReady("InvalidDockerConfig", "bad json"),
    warning("ExportInvalid", "bad json"),
  ],
  [
    "a conflict ending records ConflictResolved",
    "Conflict",
    ready("Exported"),
    { transitioned: true, events: [resolved] },
  ],
  [
    "a conflict ending in an invalid spec records ExportInvalid, then ConflictResolved",
    "Conflict",
    notReady("InvalidSpec", "Validation errors"),
    {
      transitioned: true,
      events: [{ type: "Warning", reason: "ExportInvalid", message: "Validation errors" }, resolved],
    },
  ],
  ["other reasons (a missing source) record no Event", "Exported", notReady("SecretNotFound"), silent],
  ["leaving an invalid spec records no Event", "InvalidSpec", ready("Exported"), silent],
];

for (const [rule, before, after, expected] of exportRows) {
  test(`exportTransition: ${rule}`, () => assert.deepEqual(exportTransition(before, after), expected));
}

const importRows: [string, string | undefined, Readiness, Transition][] = [
  ["the same Ready reason is no transition and no Event", "Imported", ready("Imported", "new"), NONE],
  ["the same failure again is no Event", "NoMatchingExport", notReady("NoMatchingExport"), NONE],
  [
    "becoming ready records Imported (Normal) with the status message",
    undefined,
    ready("Imported", "copied"),
    { transitioned: true, events: [{ type: "Normal", reason: "Imported", message: "copied" }] },
  ],
  [
    "ready again after a failure records Imported",
    "SecretNotFound",
    ready("Imported", "copied"),
    { transitioned: true, events: [{ type: "Normal", reason: "Imported", message: "copied" }] },
  ],
  [
    "a Secret in the way records SecretExists, even after Imported",
    "Imported",
    notReady("SecretExists", "not ours"),
    warning("SecretExists", "not ours"),
  ],
  [
    "a refused write records WriteRejected, even after Imported",
    "Imported",
    notReady("WriteRejected", "quota exceeded"),
    warning("WriteRejected", "quota exceeded"),
  ],
  [
    "losing an imported copy records ImportRemoved with the status message",
    "Imported",
    notReady("NoMatchingExport", "no export"),
    warning("ImportRemoved", "no export"),
  ],
  [
    "a first failure records a Warning named after its reason",
    undefined,
    notReady("NoMatchingExport", "no export"),
    warning("NoMatchingExport", "no export"),
  ],
  [
    "one failure to another records a Warning named after the new reason",
    "NoMatchingExport",
    notReady("InvalidSpec", "Validation errors"),
    warning("InvalidSpec", "Validation errors"),
  ],
];

for (const [rule, before, after, expected] of importRows) {
  test(`importTransition: ${rule}`, () => assert.deepEqual(importTransition(before, after), expected));
}

const conflict = (registry: string, ...exports: string[]): Conflict => ({ registry, exports });
const detected = (message: string): Transition => warning("ConflictDetected", message);

const placeholderRows: [string, Conflict[], Conflict[], Transition][] = [
  ["no conflicts before or after is no Event", [], [], NONE],
  [
    "a first conflict records ConflictDetected naming registry and exports",
    [],
    [conflict("r.io", "a/x", "b/y")],
    detected("Conflicting credentials rejected for registry r.io (exports a/x, b/y)"),
  ],
  [
    "a newly conflicting registry is named alone, the known ones are not",
    [conflict("r.io", "a/x", "b/y")],
    [conflict("r.io", "a/x", "b/y"), conflict("s.io", "a/x", "c/z"), conflict("t.io", "d/w", "e/v")],
    detected(
      "Conflicting credentials rejected for registry s.io (exports a/x, c/z); t.io (exports d/w, e/v)",
    ),
  ],
  [
    "the same conflicting registries again is no Event, even with other exports",
    [conflict("r.io", "a/x", "b/y")],
    [conflict("r.io", "a/x", "c/z")],
    NONE,
  ],
  [
    "one of several conflicts ending is no Event",
    [conflict("r.io", "a/x", "b/y"), conflict("s.io", "a/x", "c/z")],
    [conflict("s.io", "a/x", "c/z")],
    NONE,
  ],
  [
    "the last conflict ending records ConflictResolved",
    [conflict("r.io", "a/x", "b/y")],
    [],
    { transitioned: true, events: [resolved] },
  ],
  [
    "one registry's conflict replaced by another's records ConflictDetected only",
    [conflict("r.io", "a/x", "b/y")],
    [conflict("s.io", "a/x", "c/z")],
    detected("Conflicting credentials rejected for registry s.io (exports a/x, c/z)"),
  ],
];

for (const [rule, previous, next, expected] of placeholderRows) {
  test(`placeholderConflictTransition: ${rule}`, () =>
    assert.deepEqual(placeholderConflictTransition(previous, next), expected));
}
