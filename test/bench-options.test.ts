// The benchmark's command line: which scenarios a run selects and what it refuses (bench/options.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_SCENARIOS, type Options, parseOptions } from "../bench/options.ts";

const parsed = (argv: string[]): Options => {
  const options = parseOptions(argv);
  assert.notEqual(options, "help");
  return options as Options;
};

test("bench: every scenario runs by default, at N = 2,000, twice, with the defaults and --qps 0", () => {
  const options = parsed([]);
  assert.deepEqual(options.scenarios, ALL_SCENARIOS);
  assert.deepEqual(options.sizes, [2000]);
  assert.equal(options.repeat, 2);
  assert.deepEqual(
    options.configs.map((c) => c.name),
    ["defaults", "qps0"],
  );
  assert.equal(options.defaults.name, "defaults");
});

test("bench: --scenario runs one scenario alone, and --series the sizes once each", () => {
  const options = parsed(["--scenario", "idle", "--series", "--sizes", "500,2000"]);
  assert.deepEqual(options.scenarios, ["idle"]);
  assert.deepEqual(options.sizes, [500, 2000]);
  assert.equal(options.repeat, 1);
});

test("bench: --compare carvel runs the side-by-side scenario only", () => {
  const options = parsed(["--compare", "carvel", "--namespaces", "500"]);
  assert.deepEqual(options.scenarios, ["compare-carvel"]);
  assert.equal(options.compare, "carvel");
});

test("bench: an unknown scenario, comparison or size is refused before anything starts", () => {
  assert.throws(() => parseOptions(["--scenario", "nope"]), /--scenario: one of limit, fanout, idle/);
  assert.throws(() => parseOptions(["--compare", "kyverno"]), /--compare: one of carvel/);
  assert.throws(() => parseOptions(["--namespaces", "0"]), /not a positive integer: 0/);
  assert.equal(parseOptions(["--help"]), "help");
});
