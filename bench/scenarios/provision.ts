// provision: a ClusterPlaceholder matching every bench namespace at once, created while the
// controller runs: time until each has its placeholder and until each is filled with what the
// exports offer there, the writes that took; then the ClusterPlaceholder deleted and the time until
// every placeholder it made is gone.
import { performance } from "node:perf_hooks";
import {
  ANNOTATION_STATUS,
  CLUSTER_PLACEHOLDER_KIND,
  CLUSTER_PLACEHOLDER_PLURAL,
  LABEL_CLUSTER_PLACEHOLDER,
  OWN_API_VERSION,
} from "../../src/constants.ts";
import { informer } from "../../src/runtime/informer.ts";
import type { BenchClient } from "../client.ts";
import { type Context, launch, log, type Round, until } from "../context.ts";
import { indexOf } from "../fixtures.ts";
import type { Scenario } from "../scenario.ts";
import { codes, diff, sec } from "../stats.ts";
import { waitForMark } from "./idle.ts";

const NAME = "bench-provision";
const SECRET_NAME = "provisioned";
const TIMEOUT_MS = 600_000;

export const provision: Scenario = {
  name: "provision",
  async run(ctx: Context, { n }: Round) {
    const expected = ctx.placeholders;
    log(`N=${n}: provision: a ClusterPlaceholder matching ${expected} namespaces at once`);
    const controller = await launch(ctx, "provision", []);
    const seen = watchCreated(ctx, NAME);
    // Each matched namespace gets a second placeholder: at large N the controller may run out of
    // heap, which is a result to report, not a reason to stop the run.
    let exited: string | undefined;
    void controller.proc.exited.then((code) => (exited = `the controller exited (${code})`));
    try {
      await waitForMark(controller, "reconciling");
      const before = await controller.quiesce();
      const started = performance.now();
      await createClusterPlaceholder(ctx.http, NAME, {
        secretName: SECRET_NAME,
        namespaces: { names: ["bench-[0-9]*"] },
      });
      const served = () => seen.filled() >= expected || exited !== undefined;
      await until(served, TIMEOUT_MS, `${expected} provisioned placeholders filled`);
      if (exited !== undefined) {
        const notes = `${exited} after ${seen.filled()} of ${expected} were filled: see its log`;
        await deleteClusterPlaceholder(ctx.http, NAME);
        return {
          rows: [{ n, scenario: "provision", config: "defaults", notes }],
          json: { notes },
          summary: { provisionMs: NaN },
        };
      }
      const filledMs = performance.now() - started;
      const createdMs = seen.lastCreatedAt() - started;
      const after = await controller.quiesce();
      const deleteStarted = performance.now();
      await deleteClusterPlaceholder(ctx.http, NAME);
      await until(() => seen.count() === 0, TIMEOUT_MS, "every provisioned placeholder deleted");
      const withdrawnMs = performance.now() - deleteStarted;
      await controller.quiesce();
      const json = {
        namespaces: expected,
        createdMs,
        filledMs,
        withdrawnMs,
        writes: after.writes - before.writes,
        writesByCode: diff(after.writesByCode, before.writesByCode),
      };
      const rows = [
        {
          n,
          scenario: "provision",
          config: "defaults",
          timeMs: filledMs,
          writes: json.writes,
          notes: `${expected} namespaces: all created ${sec(createdMs)}, all filled ${sec(filledMs)}; withdrawn in ${sec(withdrawnMs)}; ${codes(json.writesByCode)}`,
        },
      ];
      return { rows, json, summary: { provisionMs: filledMs } };
    } finally {
      seen.stop();
      await controller.stop();
    }
  },
};

export async function createClusterPlaceholder(
  http: BenchClient,
  name: string,
  spec: Record<string, unknown>,
) {
  await http.request(`/apis/${OWN_API_VERSION}/${CLUSTER_PLACEHOLDER_PLURAL}`, {
    method: "POST",
    body: { apiVersion: OWN_API_VERSION, kind: CLUSTER_PLACEHOLDER_KIND, metadata: { name }, spec },
  });
}

export async function deleteClusterPlaceholder(http: BenchClient, name: string) {
  await http.request(`/apis/${OWN_API_VERSION}/${CLUSTER_PLACEHOLDER_PLURAL}/${name}`, { method: "DELETE" });
}

/**
 * The placeholders a ClusterPlaceholder made, watched metadata-only: when the last appeared, and how
 * many are filled (their status annotation lists as many registries as the namespace is offered).
 */
export function watchCreated(ctx: Context, owner: string) {
  const filled = new Set<string>();
  let lastCreatedAt = 0;
  const watch = informer(ctx.http, {
    name: "provisioned",
    path: "/api/v1/secrets",
    labelSelector: `${LABEL_CLUSTER_PLACEHOLDER}=${owner}`,
    metadataOnly: true,
    view: (o) =>
      (o.metadata as { annotations?: Record<string, string> }).annotations?.[ANNOTATION_STATUS] ?? "",
    onChange: (key, previous, next) => {
      if (previous === undefined && next !== undefined) lastCreatedAt = performance.now();
      const index = indexOf(key.split("/")[0] ?? "");
      const want = index === undefined ? 0 : ctx.fixtures.expectedAuths(index, ctx.generation).size;
      const sources =
        next === undefined || next === "" ? {} : ((JSON.parse(next) as { sources?: object }).sources ?? {});
      if (next !== undefined && Object.keys(sources).length === want) filled.add(key);
      else filled.delete(key);
    },
  });
  void watch.start();
  return {
    filled: () => filled.size,
    count: () => [...watch.values()].length,
    lastCreatedAt: () => lastCreatedAt,
    stop: () => watch.stop(),
  };
}
