// The benchmark's medians: what the series table reports for repeated runs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { median } from "../bench/stats.ts";

test("bench: the median of two runs is their mean, of three the middle one, of none NaN", () => {
  assert.equal(median([2.26, 1.9]), 2.08);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
