#!/usr/bin/env node
// secret-export-controller run: the controller against $KUBECONFIG or the in-cluster config.
import { hostname } from "node:os";
import { type Logger, pino } from "pino";
import { type Config, ConfigError, credentialSettings, helpText, parseConfig } from "./config.ts";
import { createController } from "./controller/controller.ts";
import { startHttpServer } from "./observability/http-server.ts";
import { createMetrics } from "./observability/metrics.ts";
import { type KubeAccess, loadKubeAccess } from "./runtime/kube-access.ts";
import { kubeHttp } from "./runtime/kube-http.ts";
import { leaderElector, leaderIdentity } from "./runtime/leader-election.ts";

async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText());
    return 0;
  }
  const config = parseConfig(argv, process.env);
  // Synchronous writes: with pino's default asynchronous ones, the flush at process.exit could
  // overtake a write still in flight and put the last lines out of order, or lose them on a crash.
  const log = pino(
    { level: config["log-level"], base: { component: "secret-export-controller" } },
    pino.destination({ sync: true }),
  );
  // From $KUBECONFIG it may be a colon-separated list, which is merged as kubectl does.
  const kubeConfig = await loadKubeAccess(
    config.kubeconfig && config.kubeconfig !== process.env.KUBECONFIG ? config.kubeconfig : undefined,
    process.env,
  );
  const metrics = createMetrics(new URL(kubeConfig.server).host);
  const identity = leaderIdentity(process.env.POD_NAME || hostname());
  const requestTimeoutMs = config["request-timeout"] * 1000;
  const controller = createController({
    kubeConfig,
    log,
    concurrency: config.concurrency,
    qps: config.qps,
    burst: config.burst,
    resyncPeriodMs: config["resync-period"] * 1000,
    requestTimeoutMs,
    instance: identity,
    metrics,
    mayWrite: () => elector?.leading() ?? true,
    credentials: credentialSettings(config, process.env),
  });
  const [host = "", port = "8080"] = splitHostPort(config["http-bind-address"]);
  const http = await startHttpServer({
    host,
    port: Number(port),
    registry: metrics.registry,
    ready: controller.ready,
  });
  log.info({ address: `${host}:${http.port}` }, "serving /metrics, /healthz and /readyz");

  const signal = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  metrics.leader(config["leader-election-id"], !config["leader-elect"]);
  const elector = config["leader-elect"]
    ? leaderElector({
        http: kubeHttp(kubeConfig, metrics.request, requestTimeoutMs),
        namespace: leaseNamespace(config, kubeConfig),
        name: config["leader-election-id"],
        identity,
        leaseDurationMs: config["lease-duration"] * 1000,
        renewDeadlineMs: config["renew-deadline"] * 1000,
        retryPeriodMs: config["retry-period"] * 1000,
        log,
        onLeadershipChange: (leading) => metrics.leader(config["leader-election-id"], leading),
      })
    : undefined;

  const started = (async () => {
    await controller.startCaches();
    log.info("caches synced");
    await elector?.acquired();
    controller.startReconciling();
    log.info("reconciling");
  })();
  const lost = elector?.lost().then(() => "lost" as const) ?? new Promise<never>(() => {});
  const outcome = await Promise.race([signal, lost, started.then(() => Promise.race([signal, lost]))]);
  if (outcome === "lost") {
    // Another replica may be writing already: stop at once and let the Deployment restart us.
    log.error("leadership lost; exiting");
    return 1;
  }
  log.info({ signal: outcome }, "shutting down");
  return shutdown(config, log, async () => {
    // Half the shutdown timeout for in-flight writes to finish, the rest for releasing the lease.
    await controller.stop((config["shutdown-timeout"] * 1000) / 2);
    await elector?.stop();
    await http.close();
  });
}

/** Stops taking work, finishes in-flight writes and releases the lease, within the shutdown timeout. */
async function shutdown(config: Config, log: Logger, stop: () => Promise<void>): Promise<number> {
  const timeoutMs = config["shutdown-timeout"] * 1000;
  const timedOut = new Promise<"timeout">((resolve) => setTimeout(resolve, timeoutMs, "timeout").unref());
  if ((await Promise.race([stop().then(() => "done" as const), timedOut])) === "timeout") {
    log.error({ timeoutMs }, "shutdown timed out");
    return 1;
  }
  log.info("stopped");
  return 0;
}

function splitHostPort(address: string): [string, string] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon), address.slice(colon + 1)];
}

function leaseNamespace(config: Config, kubeConfig: KubeAccess): string {
  return (
    config["leader-election-namespace"] || process.env.POD_NAMESPACE || kubeConfig.namespace || "default"
  );
}

const [command, ...rest] = process.argv.slice(2);
if (command === "explain") {
  // Loaded only for explain: it reads the cluster with client-node, which `run` does not load.
  import("./explain/command.ts")
    .then(({ explainCommand }) => explainCommand(rest))
    .then((code) => process.exit(code));
} else if (command !== "run") {
  console.error(
    `usage: secret-export-controller run [options]   (run --help lists them)\n` +
      `       secret-export-controller explain --namespace N [--secret NAME] [-o text|json]   (explain --help)`,
  );
  process.exitCode = 2;
} else {
  run(rest).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
        console.error(`invalid configuration:\n${(err as Error).message}\n\n${helpText()}`);
        process.exit(2);
      }
      console.error(err);
      process.exit(1);
    },
  );
}
