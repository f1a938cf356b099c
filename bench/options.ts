// The command line of `npm run bench`, parsed into plain options (nothing happens at import).
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseConfig } from "../src/config.ts";

export const USAGE =
  "usage: npm run bench -- [--namespaces N | --series [--sizes 500,1000,2000,5000]] [--repeat R]\n" +
  "                        [--scenario limit|fanout|idle|provision|podwatch|hostile]... [--compare carvel]\n" +
  "                        [--out FILE] [--config NAME=CONTROLLER_ARGS]... [--limit-concurrency 1,4,16]\n" +
  "                        [--noise 20000] [--cpu-prof] [--heap-snapshot] [--node-options OPTIONS]";

/** A controller configuration: its flags and the settings they amount to (defaults from src/config.ts). */
export interface Config {
  name: string;
  args: string[];
  concurrency: number;
  qps: number;
  burst: number;
}

export interface Options {
  sizes: number[];
  repeat: number;
  configs: Config[];
  /** The configuration with no flags: the one idle, noise, churn and profiles use. */
  defaults: Config;
  limitConcurrency: number[];
  /** Scenario names, in the order they run each round. */
  scenarios: string[];
  /** Another controller to run side by side with ours (`carvel`), or undefined. */
  compare: string | undefined;
  outPath: string;
  noiseSecrets: number;
  cpuProf: boolean;
  heapSnapshot: boolean;
  nodeOptions: string | undefined;
}

export const ALL_SCENARIOS = ["limit", "fanout", "idle", "provision"];
/** Run only when asked for: creating 10,000 pods, or 270 MB of tenant Secrets, takes minutes. */
const OPT_IN_SCENARIOS = ["podwatch", "hostile"];
export const COMPARABLE = ["carvel"];

export function configFor(name: string, args: string[]): Config {
  const effective = parseConfig(args, {});
  return { name, args, concurrency: effective.concurrency, qps: effective.qps, burst: effective.burst };
}

/** The options, or "help" when asked for the usage. Throws on a value it cannot use. */
export function parseOptions(argv: string[]): Options | "help" {
  const { values: flags } = parseArgs({
    args: argv,
    options: {
      namespaces: { type: "string", default: "2000" },
      series: { type: "boolean", default: false },
      sizes: { type: "string", default: "500,1000,2000,5000" },
      repeat: { type: "string" },
      scenario: { type: "string", multiple: true },
      compare: { type: "string" },
      out: { type: "string", default: "bench-results.json" },
      config: { type: "string", multiple: true },
      "limit-concurrency": { type: "string" },
      "cpu-prof": { type: "boolean", default: false },
      "heap-snapshot": { type: "boolean", default: false },
      "node-options": { type: "string" },
      noise: { type: "string", default: "20000" },
      help: { type: "boolean", default: false },
    },
  });
  if (flags.help) return "help";
  const compare = flags.compare;
  if (compare !== undefined && !COMPARABLE.includes(compare))
    throw new Error(`--compare: one of ${COMPARABLE.join(", ")}, not ${compare}`);
  const scenarios = compare !== undefined ? [`compare-${compare}`] : (flags.scenario ?? ALL_SCENARIOS);
  for (const s of scenarios)
    if (![...ALL_SCENARIOS, ...OPT_IN_SCENARIOS].includes(s) && compare === undefined)
      throw new Error(`--scenario: one of ${[...ALL_SCENARIOS, ...OPT_IN_SCENARIOS].join(", ")}, not ${s}`);
  const configs = (flags.config ?? ["defaults=", "qps0=--qps 0"]).map((spec) => {
    const [name = "", ...rest] = spec.split("=");
    return configFor(name, rest.join("=").split(" ").filter(Boolean));
  });
  return {
    sizes: flags.series ? numbers(flags.sizes) : numbers(flags.namespaces),
    repeat: Number(flags.repeat ?? (flags.series ? 1 : 2)),
    configs,
    defaults: configs.find((c) => c.args.length === 0) ?? configFor("defaults", []),
    limitConcurrency: [
      ...new Set([
        ...configs.map((c) => c.concurrency),
        ...numbers(flags["limit-concurrency"] ?? (flags.series ? "" : "1,2,4,8,16,32")),
      ]),
    ].sort((a, b) => a - b),
    scenarios,
    compare,
    outPath: resolve(flags.out),
    noiseSecrets: Number(flags.noise),
    cpuProf: flags["cpu-prof"],
    heapSnapshot: flags["heap-snapshot"],
    nodeOptions: flags["node-options"],
  };
}

function numbers(list: string): number[] {
  return list
    .split(",")
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: ${s}`);
      return n;
    });
}
