// The controller under test, in this process, against the run's control plane. One per test file:
// startController() in before(), and it stops itself in after().
import { after, before } from "node:test";
import { dirname, join } from "node:path";
import {
  CustomObjectsApi,
  CoreV1Api,
  type KubeConfig,
  loadAllYaml,
  ApiextensionsV1Api,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { pino } from "pino";
import { mkdir, readFile, readdir } from "node:fs/promises";
import { resolve } from "node:path";
import { METRIC_REST_CLIENT_REQUESTS_TOTAL } from "../../src/constants.ts";
import { createController } from "../../src/controller/controller.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { adminKubeConfig, eventually, ignoreNotFound } from "./cluster.ts";
import { controllerKubeConfig } from "./rbac.ts";

const root = resolve(import.meta.dirname, "../..");

/** Applies crds/ (idempotent) and waits until both are served. */
export async function installCrds(kc: KubeConfig = adminKubeConfig()): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  // As `kubectl apply -f crds/` does: manifests only, not crds/Kustomization.
  const manifests = (await readdir(join(root, "crds"))).filter((file) => /\.(ya?ml|json)$/.test(file));
  for (const file of manifests) {
    for (const crd of loadAllYaml(
      await readFile(join(root, "crds", file), "utf8"),
    ) as V1CustomResourceDefinition[]) {
      const name = crd.metadata?.name ?? "";
      const existing = await api.readCustomResourceDefinition({ name }).catch(ignoreNotFound);
      if (existing)
        await api.replaceCustomResourceDefinition({
          name,
          body: {
            ...crd,
            metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion },
          },
        });
      else await api.createCustomResourceDefinition({ body: crd });
      await eventually(`${name} established`, async () => {
        const read = await api.readCustomResourceDefinition({ name });
        return read.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
          ? true
          : undefined;
      });
    }
  }
}

/** Starts the controller (as its ServiceAccount, unless told otherwise) before this file's tests and stops it after them. */
export function useController(options: { kubeConfig?: () => Promise<KubeConfig> } = {}): {
  controller: () => ReturnType<typeof createController>;
  /** API writes (anything but GET) the controller has made so far, from its request metric. */
  writes: () => Promise<number>;
} {
  let controller: ReturnType<typeof createController> | undefined;
  const metrics = createMetrics("e2e");
  before(async () => {
    await installCrds();
    const logPath = join(root, ".run", "e2e-controller.log");
    await mkdir(dirname(logPath), { recursive: true });
    controller = createController({
      // As deployed: the ServiceAccount of config/ with only its ClusterRole and Role, so every
      // behaviour test also proves the RBAC is enough.
      kubeConfig: await (options.kubeConfig ?? controllerKubeConfig)(),
      log: pino({ level: "debug" }, pino.destination({ dest: logPath, append: true, sync: false })),
      concurrency: 4,
      qps: 0,
      burst: 1,
      resyncPeriodMs: 600_000,
      instance: "e2e",
      metrics,
    });
    await controller.startCaches();
    controller.startReconciling();
  });
  after(() => controller?.stop());
  return {
    controller: () => {
      if (!controller) throw new Error("the controller is not running");
      return controller;
    },
    async writes() {
      const counter = await metrics.registry.getSingleMetric(METRIC_REST_CLIENT_REQUESTS_TOTAL)?.get();
      return (counter?.values ?? [])
        .filter((v) => v.labels.method !== "GET")
        .reduce((sum, v) => sum + v.value, 0);
    },
  };
}

export const customObjects = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
export const core = () => adminKubeConfig().makeApiClient(CoreV1Api);
