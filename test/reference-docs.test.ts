// docs/reference.md is the reference: every API-visible string the code defines must be documented there.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { optionNames } from "../src/config.ts";
import * as constants from "../src/constants.ts";

const reference = readFileSync(resolve(import.meta.dirname, "../docs/reference.md"), "utf8");
const DOCUMENTED_PREFIXES = ["ANNOTATION_", "LABEL_", "CONDITION_", "REASON_", "EVENT_", "METRIC_"];

test("every annotation key, label, condition type and reason, Event reason and metric name is in docs/reference.md", () => {
  const missing = Object.entries(constants)
    .filter(([name]) => DOCUMENTED_PREFIXES.some((prefix) => name.startsWith(prefix)))
    .filter(([, value]) => !reference.includes(`\`${value}\``))
    .map(([name, value]) => `${name} = ${value}`);
  assert.deepEqual(missing, []);
});

test("every flag and its environment variable is in docs/reference.md", () => {
  const missing = optionNames().filter(
    ({ flag, env }) => !reference.includes(`\`${flag}\``) || !reference.includes(`\`${env}\``),
  );
  assert.deepEqual(missing, []);
});
