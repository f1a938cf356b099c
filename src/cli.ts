#!/usr/bin/env node
// secret-export-controller run: the controller against $KUBECONFIG or the in-cluster config.
import { hostname } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { ConfigError, helpText, parseConfig } from "./config.ts";
import { createController } from "./controller/controller.ts";

async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText());
    return 0;
  }
  const config = parseConfig(argv, process.env);
  const log = pino({ level: config["log-level"], base: { component: "secret-export-controller" } });
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
  const controller = createController({
    kubeConfig,
    log,
    concurrency: config.concurrency,
    qps: config.qps,
    burst: config.burst,
    resyncPeriodMs: config["resync-period"] * 1000,
    instance: hostname(),
  });
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await controller.startCaches();
  log.info("caches synced; reconciling");
  controller.startReconciling();
  const signal = await stopped;
  log.info({ signal }, "stopping");
  await controller.stop();
  log.info("stopped");
  return 0;
}

const [command, ...rest] = process.argv.slice(2);
if (command !== "run") {
  console.error(`usage: secret-export-controller run [options]   (--help lists them)`);
  process.exitCode = 2;
} else {
  run(rest).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
        console.error(`invalid configuration:\n${(err as Error).message}\n\n${helpText()}`);
        process.exitCode = 2;
        return;
      }
      console.error(err);
      process.exitCode = 1;
    },
  );
}
