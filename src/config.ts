// Configuration from flags and SEC_* environment variables (flags win), validated with zod.
import { parseArgs } from "node:util";
import { z } from "zod";
import type { CredentialSettings } from "./controller/registry-credentials.ts";
import type { CloudEndpoints } from "./credentials/provider.ts";

const options = {
  kubeconfig: {
    env: "KUBECONFIG",
    help: "kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then in-cluster",
    schema: z.string().optional(),
  },
  concurrency: {
    env: "SEC_CONCURRENCY",
    help: "reconciles running at once, per kind",
    schema: z.coerce.number().int().min(1).max(256).default(8),
  },
  qps: {
    env: "SEC_QPS",
    help: "API writes per second (client-side rate limit; 0 = unlimited)",
    schema: z.coerce.number().min(0).default(500),
  },
  burst: {
    env: "SEC_BURST",
    help: "API writes allowed in a burst above --qps",
    schema: z.coerce.number().int().min(1).default(1000),
  },
  "request-timeout": {
    env: "SEC_REQUEST_TIMEOUT",
    help: "seconds an API read or write may take before it fails and is retried (watches have their own limits)",
    schema: z.coerce.number().min(1).default(30),
  },
  "resync-period": {
    env: "SEC_RESYNC_PERIOD",
    help: "seconds between full resyncs from the caches",
    schema: z.coerce.number().int().min(10).default(600),
  },
  "http-bind-address": {
    env: "SEC_HTTP_BIND_ADDRESS",
    help: "host:port serving /metrics, /healthz and /readyz (port 0 picks a free one)",
    schema: z
      .string()
      .regex(/^[^:]*:\d+$/, "expected host:port, e.g. :8080 or 127.0.0.1:8080")
      .default(":8080"),
  },
  "leader-elect": {
    env: "SEC_LEADER_ELECT",
    help: "elect a leader on a Lease so only one replica writes",
    schema: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
  },
  "leader-election-namespace": {
    env: "SEC_LEADER_ELECTION_NAMESPACE",
    help: "namespace of the Lease; default: $POD_NAMESPACE, else the kubeconfig's namespace, else default",
    schema: z.string().optional(),
  },
  "leader-election-id": {
    env: "SEC_LEADER_ELECTION_ID",
    help: "name of the Lease",
    schema: z.string().min(1).default("secret-export-controller"),
  },
  "lease-duration": {
    env: "SEC_LEASE_DURATION",
    help: "seconds a standby waits after the last renewal before taking over",
    schema: z.coerce.number().min(1).default(15),
  },
  "renew-deadline": {
    env: "SEC_RENEW_DEADLINE",
    help: "seconds the leader keeps trying to renew before it gives up leading",
    schema: z.coerce.number().min(1).default(10),
  },
  "retry-period": {
    env: "SEC_RETRY_PERIOD",
    help: "seconds between attempts to acquire or renew the Lease",
    schema: z.coerce.number().min(0.1).default(2),
  },
  "shutdown-timeout": {
    env: "SEC_SHUTDOWN_TIMEOUT",
    help: "seconds to finish in-flight work after SIGTERM before exiting anyway",
    schema: z.coerce.number().min(1).default(20),
  },
  "log-level": {
    env: "SEC_LOG_LEVEL",
    help: "trace, debug, info, warn, error or fatal",
    schema: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  },
  "credential-provider-config": {
    env: "SEC_CREDENTIAL_PROVIDER_CONFIG",
    help: "kubelet CredentialProviderConfig file (as --image-credential-provider-config) for RegistryCredentials with exec",
    schema: z.string().optional(),
  },
  "credential-provider-bin-dir": {
    env: "SEC_CREDENTIAL_PROVIDER_BIN_DIR",
    help: "directory of the credential provider plugins (as --image-credential-provider-bin-dir)",
    schema: z.string().optional(),
  },
  "gcp-token-url": {
    env: "SEC_GCP_TOKEN_URL",
    help: "OAuth token endpoint for Google service-account keys (a key file's token_uri is ignored)",
    schema: z.url().default("https://oauth2.googleapis.com/token"),
  },
  "acr-registry-suffixes": {
    env: "SEC_ACR_REGISTRY_SUFFIXES",
    help: "comma-separated host suffixes an ACR registry may have; the AAD token is exchanged only there",
    schema: z.string().default(".azurecr.io,.azurecr.cn,.azurecr.us"),
  },
} as const;

/** The providers' endpoints when no flag is given (what the controller uses in tests without flags). */
export const DEFAULT_CLOUD_ENDPOINTS: CloudEndpoints = {
  gcpTokenUrl: "https://oauth2.googleapis.com/token",
  acrRegistrySuffixes: [".azurecr.io", ".azurecr.cn", ".azurecr.us"],
};

/** What RegistryCredential providers take from the flags: endpoints and the plugin settings. */
export function credentialSettings(config: Config, env: NodeJS.ProcessEnv): CredentialSettings {
  const configPath = config["credential-provider-config"];
  const binDir = config["credential-provider-bin-dir"];
  return {
    endpoints: {
      gcpTokenUrl: config["gcp-token-url"],
      acrRegistrySuffixes: config["acr-registry-suffixes"]
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    },
    ...(configPath && binDir ? { plugins: { configPath, binDir } } : {}),
    env,
  };
}

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
    const parsed = option.schema.safeParse(raw?.trim() === "" ? undefined : raw);
    if (parsed.success) config[name] = parsed.data;
    else problems.push(`--${name} (${option.env}): ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (problems.length === 0)
    problems.push(...leaseProblems(config as Config), ...pluginProblems(config as Config));
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return config as Config;
}

function pluginProblems(config: Config): string[] {
  const given = [config["credential-provider-config"], config["credential-provider-bin-dir"]].filter(Boolean);
  return given.length === 1
    ? ["--credential-provider-config and --credential-provider-bin-dir go together: give both or neither"]
    : [];
}

function leaseProblems(config: Config): string[] {
  if (config["retry-period"] >= config["renew-deadline"]) {
    return ["--retry-period must be shorter than --renew-deadline, so the leader can retry a renewal"];
  }
  if (config["renew-deadline"] >= config["lease-duration"]) {
    return [
      "--renew-deadline must be shorter than --lease-duration, so a leader stops before a standby takes over",
    ];
  }
  return [];
}

/** Every option as a flag and an environment variable, for documentation. */
export const optionNames = (): { flag: string; env: string }[] =>
  Object.entries(options).map(([name, option]) => ({ flag: `--${name}`, env: option.env }));

export function helpText(): string {
  const lines = Object.entries(options).flatMap(([name, option]) => {
    const fallback = option.schema.safeParse(undefined);
    const shown =
      fallback.success && fallback.data !== undefined ? `  (default ${String(fallback.data)})` : "";
    return [`  --${name}  $${option.env}${shown}`, `      ${option.help}`];
  });
  return [
    "usage: secret-export-controller run [options]",
    "",
    "Each option is a flag or an environment variable; the flag wins.",
    "",
    ...lines,
  ].join("\n");
}
