// Wiring: caches -> change handlers that compute affected keys -> keyed queues -> reconciles.
// Nothing is reconciled before every cache has synced; after that every placeholder and export is
// queued once, and again at each resync.
import { randomUUID } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ANNOTATION_STATUS, CONDITION_READY } from "../constants.ts";
import type { SecretExportStatus } from "../api/schemas.ts";
import type { Metrics } from "../observability/metrics.ts";
import { keyOf } from "../core/keys.ts";
import { toSeconds } from "../core/time.ts";
import { parsePlaceholderStatus } from "../core/placeholder.ts";
import { DEFAULT_CLOUD_ENDPOINTS } from "../config.ts";
import type { NamespaceView } from "../core/types.ts";
import type { KubeAccess } from "../runtime/kube-access.ts";
import { type KubeHttp, kubeHttp, type RequestOptions } from "../runtime/kube-http.ts";
import { createRateLimiter } from "../runtime/rate-limiter.ts";
import { createRewriteBackoff } from "../runtime/rewrite-backoff.ts";
import { createWorkQueue, type Result } from "../runtime/work-queue.ts";
import { type ConflictIndex, createConflictIndex } from "./conflict-index.ts";
import type { Context, Queues } from "./context.ts";
import { errorClassOf, NotLeading, retryDelayOf } from "./errors.ts";
import { eventRecorder } from "./events.ts";
import { reconcileExport } from "./exports.ts";
import { reconcileImport } from "./imports.ts";
import { reconcilePlaceholder } from "./placeholders.ts";
import { type ClusterPlaceholders, createClusterPlaceholders } from "./cluster-placeholders.ts";
import { createStatusMemo } from "./status-memo.ts";
import { memoisedDesiredPlaceholder } from "./desired-memo.ts";
import { type ChangeHandlers, type ClusterState, createClusterState } from "./state.ts";
import { WRITE_SUMMARY_PERIOD_MS, writeSummary } from "./write-summary.ts";
import { type ExportEntry, isPlaceholder } from "../views/views.ts";
import { providerLoaders } from "../credentials/loaders.ts";
import { type CredentialSettings, credentialReconciler, credentialsCache } from "./registry-credentials.ts";

export interface ControllerOptions {
  kubeConfig: KubeConfig | KubeAccess;
  log: Logger;
  /** Reconciles running at once, per kind. */
  concurrency: number;
  qps: number;
  burst: number;
  resyncPeriodMs: number;
  /** The deadline of every read and write without one of its own; REQUEST_TIMEOUT_MS unless given. */
  requestTimeoutMs?: number;
  instance: string;
  metrics?: Metrics;
  /** False once this process may no longer write (leader election): every write then fails before it is sent. */
  mayWrite?(): boolean;
  /** What RegistryCredential providers need from the controller's flags and environment. */
  credentials?: CredentialSettings;
}

/** Namespace events that change how many namespaces an export reaches are coalesced this long. */
const EXPORT_COUNT_DELAY_MS = 1_000;

export function createController(options: ControllerOptions) {
  const { log } = options;
  /** Aborted by stop(): in-flight requests end, so shutdown never waits for a hung one. */
  const stopping = new AbortController();
  const http = abortedBy(
    stopping.signal,
    kubeHttp(options.kubeConfig, options.metrics?.request, options.requestTimeoutMs),
  );
  const limiter = createRateLimiter({ qps: options.qps, burst: options.burst });
  const write = async <T>(path: string, request: RequestOptions) => {
    await limiter.take();
    // Checked as the request is sent: a leader frozen past its renew deadline (SIGSTOP) must not
    // write once resumed, even before its timers have run.
    if (options.mayWrite?.() === false) throw new NotLeading();
    return http.request<T>(path, request);
  };
  let reconciling = false;
  let resync: NodeJS.Timeout | undefined;

  const worker = (controller: string, reconcile: (ctx: Context, key: string) => Promise<Result>) => {
    const rewrites = createRewriteBackoff({ onDelay: () => options.metrics?.rewriteDelayed(controller) });
    const rejections = new Set<string>();
    return async (key: string) => {
      const reconcileLog = log.child({ controller, key, reconcileId: randomUUID() });
      try {
        return await reconcile({ ...shared, rewrites, rejections, log: reconcileLog }, key);
      } catch (err) {
        const errorClass = errorClassOf(err);
        options.metrics?.reconcileError(controller, errorClass);
        const retry =
          errorClass === "rejected" ? "retrying in minutes or on a change" : "retrying with backoff";
        reconcileLog.warn({ err, errorClass }, `reconcile failed; ${retry}`);
        throw err;
      }
    };
  };
  const baseQueues = {
    placeholders: createWorkQueue({
      worker: worker("placeholder", reconcilePlaceholder),
      retryDelayMs: retryDelayOf,
      concurrency: options.concurrency,
      hooks: options.metrics?.queueHooks("placeholder"),
    }),
    exports: createWorkQueue({
      worker: worker("secretexport", reconcileExport),
      retryDelayMs: retryDelayOf,
      concurrency: options.concurrency,
      hooks: options.metrics?.queueHooks("secretexport"),
    }),
    imports: createWorkQueue({
      worker: worker("secretimport", reconcileImport),
      retryDelayMs: retryDelayOf,
      concurrency: options.concurrency,
      hooks: options.metrics?.queueHooks("secretimport"),
    }),
    clusterPlaceholders: createWorkQueue({
      worker: worker("clusterplaceholder", (ctx, key) => provisioning.reconcileStatus(ctx, key)),
      concurrency: options.concurrency,
      hooks: options.metrics?.queueHooks("clusterplaceholder"),
    }),
    provisions: createWorkQueue({
      worker: worker("provision", (ctx, key) => provisioning.reconcileProvision(ctx, key)),
      concurrency: options.concurrency,
      hooks: options.metrics?.queueHooks("provision"),
    }),
  };
  const queuesNow = () => (reconciling ? queues : undefined);
  const provisioning: ClusterPlaceholders = createClusterPlaceholders({
    http,
    state: () => state,
    queues: queuesNow,
    onError: (name, err, attempt) =>
      log.warn({ informer: name, err, attempt }, "list/watch failed; retrying with backoff"),
    onProvisioned: (action) => options.metrics?.provisioned(action),
  });
  const credentials = credentialsCache(
    http,
    (key) => reconciling && queues.credentials.add(key),
    (err, attempt) =>
      log.warn({ informer: "registrycredentials", err, attempt }, "list/watch failed; retrying with backoff"),
  );
  const credentialQueue = createWorkQueue({
    worker: worker(
      "registrycredential",
      credentialReconciler(
        credentials,
        options.credentials ?? { endpoints: DEFAULT_CLOUD_ENDPOINTS, env: process.env },
        providerLoaders,
        options.metrics?.credentials(() => credentials.cache.values()),
      ),
    ),
    concurrency: options.concurrency,
    hooks: options.metrics?.queueHooks("registrycredential"),
  });
  const queues = { ...baseQueues, credentials: credentialQueue };
  const handlers = changeHandlers(queuesNow, () => state, provisioning, log);
  // A change of a RegistryCredential's Secret or of its input Secret: look at the credential again.
  const touched = (key: string) => {
    if (reconciling) for (const c of credentials.concerning(key)) queues.credentials.add(c);
  };
  const state: ClusterState = createClusterState(
    http,
    {
      ...handlers,
      dockerSecret: (key, previous, next) => (handlers.dockerSecret(key, previous, next), touched(key)),
      secretMetadata: (key, previous, next) => (handlers.secretMetadata(key, previous, next), touched(key)),
    },
    { informers: [credentials.cache], wantsSecret: credentials.wantsSecret },
  );
  const summary = writeSummary(log);
  let summaryTimer: NodeJS.Timeout | undefined;
  const shared: Omit<Context, "rewrites" | "rejections"> = {
    http,
    write,
    state,
    desiredPlaceholder: memoisedDesiredPlaceholder(),
    conflicts: createConflictIndex(),
    exportStatuses: createStatusMemo<SecretExportStatus>(),
    queues,
    events: eventRecorder(write, log, options.instance),
    writes: summary,
    log,
    now: () => toSeconds(new Date()),
  };

  options.metrics?.domain(domainCounts(state, shared.conflicts));

  function enqueueAll() {
    for (const key of state.allPlaceholders()) queues.placeholders.add(key);
    for (const entry of state.exports.values()) queues.exports.add(keyOf(entry));
    for (const entry of state.imports.values()) queues.imports.add(keyOf(entry));
    provisioning.enqueueAll(queues);
    for (const entry of credentials.cache.values()) queues.credentials.add(keyOf(entry));
  }

  return {
    state,
    /** Resolves once every cache has synced. */
    startCaches: () => Promise.all([state.start(), provisioning.start()]).then(() => {}),
    /** Starts reconciling; call after the caches synced (and, with leader election, once leading). */
    startReconciling() {
      reconciling = true;
      seedConflicts(state, shared.conflicts);
      enqueueAll();
      resync = setInterval(enqueueAll, options.resyncPeriodMs);
      summaryTimer = setInterval(() => summary.flush(), WRITE_SUMMARY_PERIOD_MS);
    },
    ready: () => state.synced() && state.healthy() && provisioning.synced() && provisioning.healthy(),
    /** Queues every placeholder, export and import now, as the periodic resync does. */
    resyncNow: enqueueAll,
    /**
     * Stops the caches and taking work, and resolves once in-flight reconciles have finished; requests
     * still in flight after `graceMs` are aborted, so a hung one cannot hold up shutdown.
     */
    async stop(graceMs = 0) {
      reconciling = false;
      clearInterval(resync);
      state.stop();
      provisioning.stop();
      const abort = setTimeout(() => stopping.abort(), graceMs);
      await Promise.all(Object.values(queues).map((queue) => queue.shutdown()));
      clearTimeout(abort);
      clearInterval(summaryTimer);
      summary.flush();
    },
    /** Entries in every internal map that follows the cluster (for tests that prove none leaks). */
    internals: () => ({
      ...state.sizes(),
      ...shared.conflicts.sizes(),
      exportStatuses: shared.exportStatuses.size(),
    }),
    /** Resolves when nothing is queued or running (for tests and benchmarks). */
    drained: () => Promise.all(Object.values(queues).map((queue) => queue.drained())),
    /** Keys of any queue waiting out a delay (for tests). */
    delayedKeys: () => Object.values(queues).flatMap((queue) => queue.delayedKeys()),
  };
}

/** The client with `signal` combined into every request's own. */
function abortedBy(signal: AbortSignal, http: KubeHttp): KubeHttp {
  const withSignal = (options: RequestOptions = {}) => ({
    ...options,
    signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal,
  });
  return {
    request: (path, options) => http.request(path, withSignal(options)),
    watch: (path, options, onEvent) => http.watch(path, withSignal(options), onEvent),
  };
}

/** Maps each cache change to the keys it can affect; before reconciling starts, changes are ignored. */
function changeHandlers(
  queuesNow: () => Queues | undefined,
  stateNow: () => ClusterState,
  provisioning: ClusterPlaceholders,
  log: Logger,
): ChangeHandlers {
  const placeholdersReachedBy = (entry: ExportEntry | undefined) =>
    stateNow()
      .namespacesReachedBy(entry)
      .flatMap((ns) => stateNow().placeholdersIn(ns));
  const reached = (entry: ExportEntry, ns: NamespaceView | undefined) =>
    ns !== undefined && stateNow().reachOf(entry, ns)?.reached === true;

  return {
    namespace(name, previous, next) {
      const queues = queuesNow();
      if (!queues) return;
      for (const key of stateNow().placeholdersIn(name)) queues.placeholders.add(key);
      for (const key of stateNow().importsIn(name)) queues.imports.add(key);
      provisioning.namespaceChanged(queues, name);
      for (const entry of stateNow().exports.values()) {
        if (reached(entry, previous) !== reached(entry, next)) {
          queues.exports.addAfter(keyOf(entry), EXPORT_COUNT_DELAY_MS);
        }
      }
    },
    export(key, previous, next) {
      const queues = queuesNow();
      if (!queues) return;
      queues.exports.add(key);
      if (previous?.placement === next?.placement) return;
      for (const i of stateNow().importsOf(key)) queues.imports.add(i);
      for (const p of new Set([...placeholdersReachedBy(previous), ...placeholdersReachedBy(next)])) {
        queues.placeholders.add(p);
      }
    },
    dockerSecret(key, previous, next) {
      const queues = queuesNow();
      if (!queues) return;
      if (isPlaceholder(previous?.annotations) || isPlaceholder(next?.annotations))
        queues.placeholders.add(key);
      if (previous === undefined || next === undefined) provisioning.secretChanged(queues, key);
      if (previous?.resourceVersion === next?.resourceVersion) return;
      // Imports of this source, and one that wants its copy where this Secret is.
      for (const i of stateNow().importsOf(key)) queues.imports.add(i);
      if (stateNow().imports.get(key) !== undefined) queues.imports.add(key);
      const entry = stateNow().exports.get(key);
      if (entry === undefined) return;
      queues.exports.add(key);
      // Its data is not cached (state.ts): any new version may be new credentials.
      for (const p of placeholdersReachedBy(entry)) queues.placeholders.add(p);
    },
    secretMetadata(key, previous, next) {
      const queues = queuesNow();
      if (!queues) return;
      if (previous?.placeholder || next?.placeholder) queues.placeholders.add(key);
      if (previous === undefined || next === undefined) provisioning.secretChanged(queues, key);
      if (previous && next && previous.resourceVersion === next.resourceVersion) return;
      if (stateNow().exports.get(key) !== undefined) queues.exports.add(key);
      if (stateNow().imports.get(key) !== undefined) queues.imports.add(key);
      for (const i of stateNow().importsOf(key)) queues.imports.add(i);
    },
    import(key) {
      queuesNow()?.imports.add(key);
    },
    copy(key) {
      queuesNow()?.imports.add(key);
    },
    sourcesRelisted() {
      const queues = queuesNow();
      if (!queues) return;
      for (const entry of stateNow().exports.values()) queues.exports.add(keyOf(entry));
      for (const entry of stateNow().imports.values()) queues.imports.add(keyOf(entry));
    },
    informerError(name, err, attempt) {
      log.warn({ informer: name, err, attempt }, "list/watch failed; retrying with backoff");
    },
  };
}

/**
 * The conflicts the placeholders' status annotations record, so an export reconciled before its
 * placeholders reports what is persisted instead of flipping to Exported and back.
 */
function seedConflicts(state: ClusterState, conflicts: ConflictIndex) {
  for (const key of state.allPlaceholders()) {
    const status = state.dockerSecrets.get(key)?.annotations[ANNOTATION_STATUS];
    if (status !== undefined) conflicts.set(key, parsePlaceholderStatus(status).conflicts);
  }
}

/** The domain gauges, counted from the caches at scrape time. */
function domainCounts(state: ClusterState, conflicts: ConflictIndex) {
  const count = (values: Iterable<string>) => {
    const counts = new Map<string, number>();
    for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
    return counts;
  };
  const readyReason = (status: { conditions?: { type: string; reason?: string }[] }) =>
    status.conditions?.find((c) => c.type === CONDITION_READY)?.reason ?? "Unknown";
  return {
    placeholdersByState: () =>
      count(
        state.allPlaceholders().map((key) => {
          const secret = state.dockerSecrets.get(key);
          if (secret === undefined) return "wrong_type";
          const status = secret.annotations[ANNOTATION_STATUS];
          if (status === undefined) return "pending";
          return status.includes('"ReconcileSucceeded"') ? "filled" : "failed";
        }),
      ),
    registryConflicts: () => conflicts.total(),
    exportsByReason: () => count([...state.exports.values()].map((e) => readyReason(e.status))),
    importsByReason: () => count([...state.imports.values()].map((i) => readyReason(i.status))),
  };
}
