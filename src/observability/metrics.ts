// Prometheus metrics: controller-runtime's names for the generic ones (so existing dashboards and
// alerts work) and domain gauges computed from the caches at scrape time. Never Secret data.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  METRIC_CREDENTIAL_EXPIRY_TIMESTAMP,
  METRIC_CREDENTIAL_REFRESH_SECONDS,
  METRIC_CREDENTIAL_REFRESHES_TOTAL,
  METRIC_EXPORTS,
  METRIC_IMPORTS,
  METRIC_LEADER_STATUS,
  METRIC_PLACEHOLDERS,
  METRIC_PROVISIONED_CREATED_TOTAL,
  METRIC_PROVISIONED_DELETED_TOTAL,
  METRIC_RECONCILE_ERRORS_BY_CLASS_TOTAL,
  METRIC_RECONCILE_ERRORS_TOTAL,
  METRIC_RECONCILE_TIME_SECONDS,
  METRIC_RECONCILE_TOTAL,
  METRIC_REGISTRY_CONFLICTS,
  METRIC_REST_CLIENT_REQUESTS_TOTAL,
  METRIC_REWRITES_DELAYED_TOTAL,
  METRIC_WORKQUEUE_ADDS_TOTAL,
  METRIC_WORKQUEUE_DEPTH,
  METRIC_WORKQUEUE_RETRIES_TOTAL,
} from "../constants.ts";
import type { WorkQueueHooks } from "../runtime/work-queue.ts";

/** What the domain gauges count, read from the caches when scraped. */
export interface DomainCounts {
  placeholdersByState(): Map<string, number>;
  registryConflicts(): number;
  exportsByReason(): Map<string, number>;
  importsByReason(): Map<string, number>;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(host: string) {
  const registry = new Registry();
  const registers = [registry];
  const reconciles = new Counter({
    name: METRIC_RECONCILE_TOTAL,
    help: "Total number of reconciliations per controller",
    labelNames: ["controller", "result"],
    registers,
  });
  const errors = new Counter({
    name: METRIC_RECONCILE_ERRORS_TOTAL,
    help: "Total number of reconciliation errors per controller",
    labelNames: ["controller"],
    registers,
  });
  const errorsByClass = new Counter({
    name: METRIC_RECONCILE_ERRORS_BY_CLASS_TOTAL,
    help: "Failed reconciles per controller and error class (rejected, throttled, conflict, not_found, server, timeout, transport, not_leading)",
    labelNames: ["controller", "class"],
    registers,
  });
  const durations = new Histogram({
    name: METRIC_RECONCILE_TIME_SECONDS,
    help: "Length of time per reconciliation per controller",
    labelNames: ["controller"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const depth = new Gauge({
    name: METRIC_WORKQUEUE_DEPTH,
    help: "Current depth of workqueue",
    labelNames: ["name"],
    registers,
  });
  const adds = new Counter({
    name: METRIC_WORKQUEUE_ADDS_TOTAL,
    help: "Total number of adds handled by workqueue",
    labelNames: ["name"],
    registers,
  });
  const retries = new Counter({
    name: METRIC_WORKQUEUE_RETRIES_TOTAL,
    help: "Total number of retries handled by workqueue",
    labelNames: ["name"],
    registers,
  });
  const requests = new Counter({
    name: METRIC_REST_CLIENT_REQUESTS_TOTAL,
    help: "Number of HTTP requests, partitioned by status code, method, and host",
    labelNames: ["code", "method", "host"],
    registers,
  });
  const rewritesDelayed = new Counter({
    name: METRIC_REWRITES_DELAYED_TOTAL,
    help: "Writes of what was already written held back with backoff (another writer keeps changing the object)",
    labelNames: ["controller"],
    registers,
  });
  const leader = new Gauge({
    name: METRIC_LEADER_STATUS,
    help: "1 while this process holds the leader election lease, 0 otherwise",
    labelNames: ["name"],
    registers,
  });

  const provisionedCreated = new Counter({
    name: METRIC_PROVISIONED_CREATED_TOTAL,
    help: "Placeholders ClusterPlaceholders created",
    registers,
  });
  const provisionedDeleted = new Counter({
    name: METRIC_PROVISIONED_DELETED_TOTAL,
    help: "Placeholders ClusterPlaceholders deleted (namespace no longer matching, or ClusterPlaceholder deleted)",
    registers,
  });

  return {
    registry,
    provisioned: (action: "created" | "deleted") =>
      (action === "created" ? provisionedCreated : provisionedDeleted).inc(),
    queueHooks(controller: string): WorkQueueHooks {
      return {
        depth: (n) => depth.set({ name: controller }, n),
        added: () => adds.inc({ name: controller }),
        retried: () => retries.inc({ name: controller }),
        processed(_key, outcome, ms) {
          const result = outcome === "requeue_after" ? "requeue_after" : outcome;
          reconciles.inc({ controller, result });
          if (outcome === "error") errors.inc({ controller });
          durations.observe({ controller }, ms / 1000);
        },
      };
    },
    reconcileError: (controller: string, errorClass: string) =>
      errorsByClass.inc({ controller, class: errorClass }),
    request: (method: string, code: number | "error") => requests.inc({ method, code: String(code), host }),
    rewriteDelayed: (controller: string) => rewritesDelayed.inc({ controller }),
    leader: (name: string, leading: boolean) => leader.set({ name }, leading ? 1 : 0),
    /** RegistryCredential metrics: refreshes, their duration, and each credential's expiry from `read`. */
    credentials(read: () => Iterable<{ namespace: string; name: string; status: { expiresAt?: string } }>) {
      const refreshes = new Counter({
        name: METRIC_CREDENTIAL_REFRESHES_TOTAL,
        help: "Provider calls for RegistryCredentials, by provider and result",
        labelNames: ["provider", "result"],
        registers,
      });
      const seconds = new Histogram({
        name: METRIC_CREDENTIAL_REFRESH_SECONDS,
        help: "Duration of provider calls for RegistryCredentials",
        labelNames: ["provider"],
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      });
      new Gauge({
        name: METRIC_CREDENTIAL_EXPIRY_TIMESTAMP,
        help: "When the credential in each RegistryCredential's Secret expires, in Unix seconds",
        labelNames: ["namespace", "name"],
        registers,
        collect() {
          this.reset();
          for (const { namespace, name, status } of read()) {
            const at = Date.parse(status.expiresAt ?? "");
            if (!Number.isNaN(at)) this.set({ namespace, name }, at / 1000);
          }
        },
      });
      return {
        refreshed(provider: string, result: "success" | "failure", duration: number) {
          refreshes.inc({ provider, result });
          seconds.observe({ provider }, duration);
        },
      };
    },
    /** Registers the domain gauges; their values are read from `counts` at every scrape. */
    domain(counts: DomainCounts) {
      gaugeOf(
        METRIC_PLACEHOLDERS,
        "Placeholder Secrets by the state of their last reconcile",
        "state",
        counts.placeholdersByState,
      );
      gaugeOf(
        METRIC_EXPORTS,
        "SecretExports by the reason of their Ready condition",
        "reason",
        counts.exportsByReason,
      );
      gaugeOf(
        METRIC_IMPORTS,
        "SecretImports by the reason of their Ready condition",
        "reason",
        counts.importsByReason,
      );
      new Gauge({
        name: METRIC_REGISTRY_CONFLICTS,
        help: "Registries currently rejected as conflicts, summed over placeholders",
        registers,
        collect() {
          this.set(counts.registryConflicts());
        },
      });
    },
  };

  function gaugeOf(name: string, help: string, label: string, read: () => Map<string, number>) {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [value, count] of read()) this.set({ [label]: value }, count);
      },
    });
  }
}
