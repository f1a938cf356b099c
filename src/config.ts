// Configuration from flags and SEC_* environment variables (flags win), validated with zod.
import { parseArgs } from "node:util";
import { z } from "zod";

const options = {
  kubeconfig: {
    env: "KUBECONFIG",
    help: "kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then in-cluster",
    schema: z.string().optional(),
  },
  concurrency: {
    env: "SEC_CONCURRENCY",
    help: "reconciles running at once, per kind",
    schema: z.coerce.number().int().min(1).max(256).default(4),
  },
  qps: {
    env: "SEC_QPS",
    help: "API writes per second (client-side rate limit; 0 = unlimited)",
    schema: z.coerce.number().min(0).default(50),
  },
  burst: {
    env: "SEC_BURST",
    help: "API writes allowed in a burst above --qps",
    schema: z.coerce.number().int().min(1).default(100),
  },
  "resync-period": {
    env: "SEC_RESYNC_PERIOD",
    help: "seconds between full resyncs from the caches",
    schema: z.coerce.number().int().min(10).default(600),
  },
  "log-level": {
    env: "SEC_LOG_LEVEL",
    help: "trace, debug, info, warn, error or fatal",
    schema: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  },
} as const;

type OptionName = keyof typeof options;
export type Config = { [K in OptionName]: z.output<(typeof options)[K]["schema"]> };

export class ConfigError extends Error {}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(options).map((name) => [name, { type: "string" }])) as Record<
      OptionName,
      { type: "string" }
    >,
    strict: true,
  });
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, option] of Object.entries(options) as [OptionName, (typeof options)[OptionName]][]) {
    const raw = values[name] ?? env[option.env];
    const parsed = option.schema.safeParse(raw === "" ? undefined : raw);
    if (parsed.success) config[name] = parsed.data;
    else problems.push(`--${name} (${option.env}): ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return config as Config;
}

export function helpText(): string {
  const lines = Object.entries(options).map(([name, option]) => {
    const fallback = option.schema.safeParse(undefined);
    const shown = fallback.success && fallback.data !== undefined ? ` (default ${fallback.data})` : "";
    return `  --${name.padEnd(16)} ${option.env.padEnd(18)} ${option.help}${shown}`;
  });
  return [
    "usage: secret-export-controller run [options]",
    "",
    "options (flag, environment variable):",
    ...lines,
  ].join("\n");
}
