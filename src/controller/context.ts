// Everything a reconcile may use, passed explicitly: caches, the write path, queues, events, logs.
import type { Logger } from "pino";
import type { KubeHttp, RequestOptions } from "../runtime/kube-http.ts";
import type { RewriteBackoff } from "../runtime/rewrite-backoff.ts";
import type { WorkQueue } from "../runtime/work-queue.ts";
import type { SecretExportStatus } from "../api/schemas.ts";
import type { ConflictIndex } from "./conflict-index.ts";
import type { DesiredPlaceholder } from "./desired-memo.ts";
import type { EventRecorder } from "./events.ts";
import type { ClusterState } from "./state.ts";
import type { StatusMemo } from "./status-memo.ts";
import type { WriteSummary } from "./write-summary.ts";

export interface Context {
  http: KubeHttp;
  /** Every write goes through here: rate limited (QPS/burst) and counted. */
  write<T>(path: string, options: RequestOptions): Promise<T>;
  state: ClusterState;
  /** desiredPlaceholder, remembered for placeholders that share candidates and content. */
  desiredPlaceholder: DesiredPlaceholder;
  /** Holds back writing an object again with what was already written there; one per controller. */
  rewrites: RewriteBackoff;
  /** Keys whose refused write was reported (a WriteRejected Event) until one is written; one per controller. */
  rejections: Set<string>;
  conflicts: ConflictIndex;
  /** SecretExport statuses written and not yet seen by the cache. */
  exportStatuses: StatusMemo<SecretExportStatus>;
  queues: Queues;
  events: EventRecorder;
  /** Counts successful writes for the periodic info line; the per-object line is debug. */
  writes: WriteSummary;
  log: Logger;
  now(): string;
}

export interface Queues {
  placeholders: WorkQueue;
  exports: WorkQueue;
  imports: WorkQueue;
  /** ClusterPlaceholder status, by name. */
  clusterPlaceholders: WorkQueue;
  /** One ClusterPlaceholder in one namespace: `<name>/<namespace>`. */
  provisions: WorkQueue;
}

export const MERGE_PATCH = "application/merge-patch+json";
