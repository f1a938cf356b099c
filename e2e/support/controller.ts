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
import { createController } from "../../src/controller/controller.ts";
import { adminKubeConfig, eventually, ignoreNotFound } from "./cluster.ts";

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

/** Starts the controller before this file's tests and stops it after them. */
export function useController(options: { kubeConfig?: () => Promise<KubeConfig> } = {}): {
  controller: () => ReturnType<typeof createController>;
} {
  let controller: ReturnType<typeof createController> | undefined;
  before(async () => {
    await installCrds();
    const logPath = join(root, ".run", "e2e-controller.log");
    await mkdir(dirname(logPath), { recursive: true });
    controller = createController({
      kubeConfig: options.kubeConfig ? await options.kubeConfig() : adminKubeConfig(),
      log: pino({ level: "debug" }, pino.destination({ dest: logPath, append: true, sync: false })),
      concurrency: 4,
      qps: 0,
      burst: 1,
      resyncPeriodMs: 600_000,
      instance: "e2e",
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
  };
}

export const customObjects = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
export const core = () => adminKubeConfig().makeApiClient(CoreV1Api);
