// podwatch: what the metadata-only pod watch of spec.namespaces.withPods costs in memory, with
// 10,000 matching pods (Pod objects only: nothing runs them). The same ClusterPlaceholder matches
// the same namespaces first by name, then by their pods; each time a fresh controller's settled RSS
// is read, so the difference is the pod watch alone. Not in the default set: --scenario podwatch.
import { performance } from "node:perf_hooks";
import { CLUSTER_PLACEHOLDER_PLURAL, OWN_API_VERSION } from "../../src/constants.ts";
import { ApiError } from "../../src/runtime/kube-http.ts";
import { type BenchClient, inPool, range, withRetry } from "../client.ts";
import { type Context, launch, log, type Round, until } from "../context.ts";
import { SETUP_CONCURRENCY } from "../fixtures.ts";
import type { Row } from "../report.ts";
import type { Scenario } from "../scenario.ts";
import { sec, signed } from "../stats.ts";
import { createClusterPlaceholder, deleteClusterPlaceholder, watchCreated } from "./provision.ts";
import { settledUsage, waitForMark } from "./idle.ts";

const NAME = "bench-podwatch";
const POD_NAMESPACES = 100;
const PODS_PER_NAMESPACE = 100;
const POD_LABEL = "sec-bench/pod";
const podNamespace = (i: number) => `pods-${String(i).padStart(3, "0")}`;

export const podwatch: Scenario = {
  name: "podwatch",
  async run(ctx: Context, { n }: Round) {
    const pods = POD_NAMESPACES * PODS_PER_NAMESPACE;
    log(`N=${n}: podwatch: ${pods} pods in ${POD_NAMESPACES} namespaces`);
    const started = performance.now();
    await createPods(ctx.http);
    const createMs = performance.now() - started;
    const seen = watchCreated(ctx, NAME);
    try {
      await createClusterPlaceholder(ctx.http, NAME, {
        secretName: "mesh-pull",
        namespaces: { names: ["pods-*"] },
      });
      const byName = await freshRss(ctx, "podwatch-names", () => seen.count() >= POD_NAMESPACES);
      await patchSpec(ctx.http, {
        secretName: "mesh-pull",
        namespaces: { withPods: { matchLabels: { [POD_LABEL]: "yes" } } },
      });
      const byPods = await freshRss(ctx, "podwatch-pods", () => seen.count() >= POD_NAMESPACES);
      await deleteClusterPlaceholder(ctx.http, NAME);
      await until(() => seen.count() === 0, 600_000, "podwatch placeholders deleted");
      const json = {
        pods,
        createMs,
        rssByNameMb: byName.rssMb,
        rssByPodsMb: byPods.rssMb,
        podWatchMb: byPods.rssMb - byName.rssMb,
      };
      const rows: Row[] = [
        {
          n,
          scenario: "podwatch",
          config: "defaults",
          rssMb: byPods.rssMb,
          notes: `${pods} pods watched: RSS ${byName.rssMb.toFixed(1)} → ${byPods.rssMb.toFixed(1)} MB (${signed(json.podWatchMb)}); pods created in ${sec(createMs)}`,
        },
      ];
      return { rows, json, summary: { podWatchMb: json.podWatchMb } };
    } finally {
      seen.stop();
    }
  },
};

/** A fresh controller's settled RSS once `served` holds. */
async function freshRss(ctx: Context, name: string, served: () => boolean) {
  const controller = await launch(ctx, name, []);
  try {
    await waitForMark(controller, "reconciling");
    await until(served, 600_000, `${name}: every pod namespace served`);
    await controller.quiesce();
    return await settledUsage(controller);
  } finally {
    await controller.stop();
  }
}

async function createPods(http: BenchClient) {
  const ignoreExisting = (err: unknown) => {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
  };
  await inPool(range(0, POD_NAMESPACES), SETUP_CONCURRENCY, (i) =>
    withRetry(() =>
      http.request("/api/v1/namespaces", { method: "POST", body: { metadata: { name: podNamespace(i) } } }),
    )
      .then(() => undefined)
      .catch(ignoreExisting),
  );
  const all = range(0, POD_NAMESPACES * PODS_PER_NAMESPACE);
  await inPool(all, SETUP_CONCURRENCY, (i) => {
    const namespace = podNamespace(Math.floor(i / PODS_PER_NAMESPACE));
    const body = {
      metadata: { name: `pod-${i}`, labels: { [POD_LABEL]: "yes", app: `app-${i % 7}` } },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: "app", image: "registry.bench.example/app:1" }],
      },
    };
    return withRetry(() => http.request(`/api/v1/namespaces/${namespace}/pods`, { method: "POST", body }))
      .then(() => undefined)
      .catch(ignoreExisting);
  });
}

const patchSpec = (http: BenchClient, spec: Record<string, unknown>) =>
  http.request(`/apis/${OWN_API_VERSION}/${CLUSTER_PLACEHOLDER_PLURAL}/${NAME}`, {
    method: "PATCH",
    contentType: "application/merge-patch+json",
    // null first: a merge patch would otherwise keep namespaces.names beside withPods.
    body: { spec: { ...spec, namespaces: { names: null, ...(spec.namespaces as object) } } },
  });
