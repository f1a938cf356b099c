import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_STATUS,
  CONDITION_RECONCILE_FAILED,
  DOCKER_CONFIG_JSON_KEY,
} from "../../src/constants.ts";
import {
  failedReason,
  failedStatus,
  otherDataBytes,
  placeholderPatch,
} from "../../src/core/placeholder-patch.ts";
import type { PlaceholderPatch, PlaceholderState } from "../../src/core/placeholder-patch.ts";

const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");

const OLD_CONFIG = '{"auths":{"docker.io":{"username":"a","password":"old"}}}';
const NEW_CONFIG = '{"auths":{"docker.io":{"username":"a","password":"new"}}}';
const OLD_STATUS = '{"conditions":[{"type":"ReconcileSucceeded","status":"True"}]}';
const NEW_STATUS = '{"conditions":[{"type":"ReconcileSucceeded","status":"True"}],"secretNames":["a/b"]}';

const CURRENT: PlaceholderState = {
  resourceVersion: "7",
  data: { [DOCKER_CONFIG_JSON_KEY]: b64(OLD_CONFIG), "extra.txt": b64("keep me") },
  annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "", [ANNOTATION_STATUS]: OLD_STATUS, owner: "team-a" },
};

const statusOnly = (status: string): PlaceholderPatch => ({
  metadata: { resourceVersion: "7", annotations: { [ANNOTATION_STATUS]: status } },
});
const dataOnly = (config: string): PlaceholderPatch => ({
  metadata: { resourceVersion: "7" },
  data: { [DOCKER_CONFIG_JSON_KEY]: b64(config) },
});

const rows: [
  name: string,
  current: PlaceholderState,
  desired: { dockerConfigJson?: string; status: string },
  patch: PlaceholderPatch | undefined,
][] = [
  [
    "nothing is written when data and status are already as desired",
    CURRENT,
    { dockerConfigJson: OLD_CONFIG, status: OLD_STATUS },
    undefined,
  ],
  [
    "only the status annotation is patched when only it differs",
    CURRENT,
    { dockerConfigJson: OLD_CONFIG, status: NEW_STATUS },
    statusOnly(NEW_STATUS),
  ],
  [
    "only the data is patched when only it differs",
    CURRENT,
    { dockerConfigJson: NEW_CONFIG, status: OLD_STATUS },
    dataOnly(NEW_CONFIG),
  ],
  [
    "data and status annotation are patched when both differ",
    CURRENT,
    { dockerConfigJson: NEW_CONFIG, status: NEW_STATUS },
    { ...dataOnly(NEW_CONFIG), ...statusOnly(NEW_STATUS) },
  ],
  [
    "the data is patched when the placeholder has no .dockerconfigjson yet",
    { ...CURRENT, data: {} },
    { dockerConfigJson: OLD_CONFIG, status: OLD_STATUS },
    dataOnly(OLD_CONFIG),
  ],
  [
    "the status is patched when the placeholder has no status annotation yet",
    { ...CURRENT, annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } },
    { dockerConfigJson: OLD_CONFIG, status: OLD_STATUS },
    statusOnly(OLD_STATUS),
  ],
  [
    "nothing is written without desired data when the status is as desired",
    CURRENT,
    { status: OLD_STATUS },
    undefined,
  ],
  [
    "only the status is patched without desired data (oversize or wrong type)",
    CURRENT,
    { status: NEW_STATUS },
    statusOnly(NEW_STATUS),
  ],
  [
    "the data is never patched without desired data, even when the placeholder has none",
    { ...CURRENT, data: {} },
    { status: NEW_STATUS },
    statusOnly(NEW_STATUS),
  ],
];

describe("placeholderPatch", () => {
  for (const [name, current, desired, patch] of rows) {
    test(name, () => {
      assert.deepEqual(placeholderPatch(current, desired), patch);
    });
  }

  test("always carries the resourceVersion precondition and never other data keys, labels or annotations", () => {
    for (const [name, current, desired] of rows) {
      const patch = placeholderPatch(current, desired);
      if (patch === undefined) continue;
      assert.deepEqual(Object.keys(patch).toSorted(), patch.data ? ["data", "metadata"] : ["metadata"], name);
      assert.equal(patch.metadata.resourceVersion, current.resourceVersion, name);
      const metadataKeys = Object.keys(patch.metadata).filter((k) => k !== "resourceVersion");
      assert.ok(
        metadataKeys.every((k) => k === "annotations"),
        name,
      );
      assert.deepEqual(
        Object.keys(patch.metadata.annotations ?? {}),
        patch.metadata.annotations ? [ANNOTATION_STATUS] : [],
        name,
      );
      assert.deepEqual(Object.keys(patch.data ?? {}), patch.data ? [DOCKER_CONFIG_JSON_KEY] : [], name);
    }
  });

  test("encodes the desired .dockerconfigjson as UTF-8 base64", () => {
    const config = '{"auths":{"r.example":{"username":"zoë","password":"p"}}}';
    const patch = placeholderPatch(
      { ...CURRENT, data: {} },
      { dockerConfigJson: config, status: OLD_STATUS },
    );
    const encoded = patch?.data?.[DOCKER_CONFIG_JSON_KEY] ?? "";
    assert.equal(Buffer.from(encoded, "base64").toString("utf8"), config);
  });
});

describe("otherDataBytes", () => {
  test("sums the decoded sizes of every data value except .dockerconfigjson", () => {
    const rows: [name: string, data: Record<string, string>, bytes: number][] = [
      ["no data", {}, 0],
      ["only .dockerconfigjson", { [DOCKER_CONFIG_JSON_KEY]: b64("x".repeat(1000)) }, 0],
      ["one value", { a: b64("hello") }, 5],
      ["padding ==", { a: "YQ==" }, 1],
      ["padding =", { a: "YWI=" }, 2],
      ["no padding", { a: "YWJj" }, 3],
      ["an empty value", { a: "" }, 0],
      ["multi-byte UTF-8", { a: b64("é€") }, 5],
      ["binary", { a: b64(Buffer.from(Array.from({ length: 256 }, (_, i) => i))) }, 256],
      [
        "several values beside .dockerconfigjson",
        { [DOCKER_CONFIG_JSON_KEY]: b64(OLD_CONFIG), a: b64("abc"), b: b64("defgh") },
        8,
      ],
    ];
    for (const [name, data, bytes] of rows) assert.equal(otherDataBytes(data), bytes, name);
  });
});

describe("failedStatus", () => {
  const failed = (message: string) => ({ type: CONDITION_RECONCILE_FAILED, status: "True", message });

  test("keeps the current annotation's other fields and replaces its conditions with one ReconcileFailed", () => {
    const current = JSON.stringify({
      conditions: [
        { type: "ReconcileSucceeded", status: "True" },
        { type: "Other", status: "False" },
      ],
      secretNames: ["infra/creds", "team/creds"],
      sources: { "docker.io": "infra/creds", "quay.io": "team/creds" },
      conflicts: [{ registry: "ghcr.io", exports: ["a/x", "b/y"] }],
    });
    assert.deepEqual(JSON.parse(failedStatus(current, "too large")), {
      conditions: [failed("too large")],
      secretNames: ["infra/creds", "team/creds"],
      sources: { "docker.io": "infra/creds", "quay.io": "team/creds" },
      conflicts: [{ registry: "ghcr.io", exports: ["a/x", "b/y"] }],
    });
  });

  test("writes compact JSON with conditions first, even when the current annotation has none", () => {
    const rows: [current: string, expected: string][] = [
      [
        '{"conditions":[{"type":"ReconcileSucceeded","status":"True"}],"secretNames":["a/b"]}',
        '{"conditions":[{"type":"ReconcileFailed","status":"True","message":"m"}],"secretNames":["a/b"]}',
      ],
      [
        '{"secretNames":["a/b"],"sources":{"r":"a/b"}}',
        '{"conditions":[{"type":"ReconcileFailed","status":"True","message":"m"}],"secretNames":["a/b"],"sources":{"r":"a/b"}}',
      ],
    ];
    for (const [current, expected] of rows) assert.equal(failedStatus(current, "m"), expected, current);
  });

  test("replaces an absent or unreadable annotation as a whole", () => {
    const rows: (string | undefined)[] = [
      undefined,
      "",
      "not json",
      "{",
      "[1,2]",
      "null",
      "42",
      '"text"',
      "true",
    ];
    for (const current of rows) {
      assert.equal(
        failedStatus(current, "the message"),
        '{"conditions":[{"type":"ReconcileFailed","status":"True","message":"the message"}]}',
        String(current),
      );
    }
  });

  test("with a reason, writes it before the message, and failedReason reads it back", () => {
    const written = failedStatus('{"secretNames":["a/b"]}', "m", "WriteRejected");
    assert.equal(
      written,
      '{"conditions":[{"type":"ReconcileFailed","status":"True","reason":"WriteRejected","message":"m"}],"secretNames":["a/b"]}',
    );
    assert.equal(failedReason(written), "WriteRejected");
    const rows = [undefined, "not json", failedStatus(undefined, "m"), '{"conditions":[{"reason":7}]}'];
    for (const current of rows) assert.equal(failedReason(current), undefined, String(current));
  });
});
