// A ClusterPlaceholder's status and the Event its transitions deserve. Pure: the time is passed in.
import {
  CONDITION_READY,
  EVENT_CLUSTER_PLACEHOLDER_INVALID,
  REASON_INVALID_SPEC,
  REASON_NAMESPACES_NOT_SERVED,
  REASON_PROVISIONED,
} from "../constants.ts";
import { type Readiness, setCondition } from "./conditions.ts";
import type { ClusterPlaceholderStatus, Condition, NamespaceNotServed } from "./types.ts";
import type { Service } from "./cluster-placeholder.ts";
import type { EventSpec } from "./transitions.ts";
import type { FieldProblem } from "./types.ts";

/** How many namespaces not served are listed by name; the count says how many there are. */
export const NOT_SERVED_LISTED = 10;

export interface StatusFacts {
  generation: number;
  problems: FieldProblem[] | undefined;
  /** Per matching namespace, by name. */
  services: ReadonlyMap<string, NonNullable<Service>>;
  previous: readonly Condition[];
  now: string;
}

export function clusterPlaceholderStatus(facts: StatusFacts): {
  status: Required<ClusterPlaceholderStatus>;
  outcome: Readiness;
} {
  const notServed: NamespaceNotServed[] = [];
  let served = 0;
  for (const [namespace, service] of facts.services) {
    if (service.served) served++;
    else notServed.push({ namespace, reason: service.reason, message: service.message });
  }
  notServed.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  const outcome = outcomeOf(facts.problems, served, notServed);
  const ready = {
    type: CONDITION_READY,
    status: outcome.ready ? "True" : "False",
    reason: outcome.reason,
    message: outcome.message,
    observedGeneration: facts.generation,
  } as const;
  return {
    outcome,
    status: {
      observedGeneration: facts.generation,
      conditions: setCondition(facts.previous, ready, facts.now),
      namespacesServed: served,
      namespacesNotServed: notServed.slice(0, NOT_SERVED_LISTED),
      namespacesNotServedCount: notServed.length,
    },
  };
}

function outcomeOf(
  problems: FieldProblem[] | undefined,
  served: number,
  notServed: NamespaceNotServed[],
): Readiness {
  if (problems !== undefined) {
    const message = problems.map((p) => `${p.field}: ${p.message}`).join("; ");
    return {
      ready: false,
      reason: REASON_INVALID_SPEC,
      message: `${message}. Placeholders it created are kept until the spec is valid again`,
    };
  }
  if (notServed.length === 0) {
    return { ready: true, reason: REASON_PROVISIONED, message: `Placeholder kept in ${namespaces(served)}` };
  }
  const listed = notServed
    .slice(0, 3)
    .map((n) => `${n.namespace} (${n.reason})`)
    .join(", ");
  const more = notServed.length > 3 ? ` and ${notServed.length - 3} more` : "";
  return {
    ready: false,
    reason: REASON_NAMESPACES_NOT_SERVED,
    message: `${namespaces(notServed.length)} matching but not served: ${listed}${more}; see status.namespacesNotServed`,
  };
}

const namespaces = (n: number) => `${n} namespace${n === 1 ? "" : "s"}`;

/** The Event for a change of the Ready reason; none while it stays the same. */
export function transitionEvent(before: string | undefined, after: Readiness): EventSpec | undefined {
  if (before === after.reason) return undefined;
  if (after.reason === REASON_INVALID_SPEC) {
    return { type: "Warning", reason: EVENT_CLUSTER_PLACEHOLDER_INVALID, message: after.message };
  }
  if (after.ready) return { type: "Normal", reason: after.reason, message: after.message };
  return { type: "Warning", reason: after.reason, message: after.message };
}
