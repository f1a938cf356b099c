// Kubernetes Events, best effort: a failure to record one is logged, never retried into a storm.
import type { Logger } from "pino";
import { EVENT_COMPONENT } from "../constants.ts";
import { toSeconds } from "../core/time.ts";
import type { EventSpec } from "../core/transitions.ts";
import type { RequestOptions } from "../runtime/kube-http.ts";

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventRecorder {
  emit(object: InvolvedObject, type: EventSpec["type"], reason: string, message: string): Promise<void>;
}

export function eventRecorder(
  write: (path: string, options: RequestOptions) => Promise<unknown>,
  log: Logger,
  instance: string,
): EventRecorder {
  return {
    async emit(object, type, reason, message) {
      const now = toSeconds(new Date());
      // Events about a cluster-scoped object (namespace "") live in default, as kubectl looks for them.
      const namespace = object.namespace || "default";
      const body = {
        metadata: { generateName: `${object.name}.`, namespace },
        involvedObject: object,
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: EVENT_COMPONENT },
        reportingComponent: EVENT_COMPONENT,
        reportingInstance: instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      await write(`/api/v1/namespaces/${namespace}/events`, { method: "POST", body }).catch((err: unknown) =>
        log.warn({ err, reason, object: `${object.namespace}/${object.name}` }, "could not record event"),
      );
    },
  };
}
