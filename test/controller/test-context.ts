// A reconcile Context for shell tests: the real cluster state, write path and Event recorder, over a
// client of a scripted server; queues that run nothing.
import type { TestContext } from "node:test";
import { pino } from "pino";
import { createConflictIndex } from "../../src/controller/conflict-index.ts";
import type { Context } from "../../src/controller/context.ts";
import { eventRecorder } from "../../src/controller/events.ts";
import { type ChangeHandlers, type ClusterState, createClusterState } from "../../src/controller/state.ts";
import { memoisedDesiredPlaceholder } from "../../src/controller/desired-memo.ts";
import { createStatusMemo } from "../../src/controller/status-memo.ts";
import { writeSummary } from "../../src/controller/write-summary.ts";
import type { KubeHttp, RequestOptions } from "../../src/runtime/kube-http.ts";
import { createRewriteBackoff } from "../../src/runtime/rewrite-backoff.ts";
import { createWorkQueue } from "../../src/runtime/work-queue.ts";
import type { ScriptedServer } from "../runtime/scripted-server.ts";

const noop = () => {};
/** Change handlers that do nothing: the state alone is under test. */
export const noopHandlers: ChangeHandlers = {
  namespace: noop,
  export: noop,
  dockerSecret: noop,
  secretMetadata: noop,
  import: noop,
  copy: noop,
  sourcesRelisted: noop,
  informerError: noop,
};

/** The cluster state over the scripted server, synced; stopped with the server when the test ends. */
export async function syncedState(t: TestContext, server: ScriptedServer): Promise<ClusterState> {
  const state = createClusterState(server.http, noopHandlers);
  t.after(() => (state.stop(), server.close()));
  await state.start();
  return state;
}

export function testContext(http: KubeHttp, state: ClusterState): Context {
  const log = pino({ level: "silent" });
  const write = <T>(path: string, request: RequestOptions) => http.request<T>(path, request);
  const queue = () => createWorkQueue({ worker: async () => ({}), concurrency: 1 });
  return {
    http,
    write,
    state,
    desiredPlaceholder: memoisedDesiredPlaceholder(),
    rewrites: createRewriteBackoff(),
    rejections: new Set(),
    conflicts: createConflictIndex(),
    exportStatuses: createStatusMemo(),
    queues: {
      placeholders: queue(),
      exports: queue(),
      imports: queue(),
      clusterPlaceholders: queue(),
      provisions: queue(),
    },
    events: eventRecorder(write, log, "test"),
    writes: writeSummary(log),
    log,
    now: () => "2026-12-02T00:00:00Z",
  };
}
