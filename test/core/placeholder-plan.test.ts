import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_STATUS,
  DOCKER_CONFIG_JSON_KEY,
  MESSAGE_STATUS_TOO_LARGE,
  MESSAGE_TOO_LARGE,
} from "../../src/constants.ts";
import { parseDockerConfig } from "../../src/core/dockerconfig.ts";
import type { Candidate } from "../../src/core/placeholder.ts";
import type { PlaceholderState } from "../../src/core/placeholder-patch.ts";
import { planPlaceholder } from "../../src/core/placeholder-plan.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** `count` exports of one registry each, with registry keys and export names of realistic length. */
function candidates(count: number, password = "p"): Candidate[] {
  return Array.from({ length: count }, (_, i) => {
    const registry = `${String(i).padStart(12, "0")}.dkr.ecr.eu-west-1.amazonaws.com`;
    const auths = { [registry]: { username: "AWS", password } };
    return {
      exportKey: `platform-registry-credentials/ecr-credentials-${String(i).padStart(4, "0")}`,
      weight: 0,
      sameNamespace: false,
      exact: true,
      source: parseDockerConfig(JSON.stringify({ auths })),
    };
  });
}

/** A placeholder as the controller left it after filling it from these candidates. */
function filledBy(list: Candidate[]): PlaceholderState {
  const empty = { resourceVersion: "1", data: {}, annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } };
  const { desired } = planPlaceholder(empty, list);
  return {
    resourceVersion: "2",
    data: { [DOCKER_CONFIG_JSON_KEY]: b64(desired.dockerConfigJson) },
    annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "", [ANNOTATION_STATUS]: desired.status },
  };
}

test("a merged result that fits is written whole", () => {
  const plan = planPlaceholder(filledBy(candidates(10)), candidates(11));
  assert.equal(plan.fits, true);
  assert.equal(plan.tooLarge, undefined);
  assert.ok(plan.patch?.data?.[DOCKER_CONFIG_JSON_KEY]);
});

test("thousands of registries whose status would outgrow the annotation limit: the data is kept and the limit reported", () => {
  const current = filledBy(candidates(1_500));
  const plan = planPlaceholder(current, candidates(2_500));
  assert.ok(Buffer.byteLength(plan.desired.dockerConfigJson) < 1_048_576, "the data alone would fit");
  assert.equal(plan.fits, false);
  assert.equal(plan.tooLarge, MESSAGE_STATUS_TOO_LARGE);
  assert.equal(plan.patch?.data, undefined, "the data is not written");
  const status = JSON.parse(plan.patch?.metadata.annotations?.[ANNOTATION_STATUS] ?? "{}");
  assert.deepEqual(status.conditions, [
    { type: "ReconcileFailed", status: "True", message: MESSAGE_STATUS_TOO_LARGE },
  ]);
  assert.equal(Object.keys(status.sources).length, 1_500, "the provenance of the data it keeps stays");
});

test("data over 1 MiB is reported as the data limit, even when the status would be too large too", () => {
  const plan = planPlaceholder(filledBy(candidates(10)), candidates(2_500, "x".repeat(500)));
  assert.equal(plan.tooLarge, MESSAGE_TOO_LARGE);
  assert.equal(plan.patch?.data, undefined);
});
