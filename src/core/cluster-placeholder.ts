// ClusterPlaceholder (SPEC §10): which namespaces one matches and why, and what that means for the
// placeholder at its name there. It decides where placeholders exist, never what they hold (§3 does).
import type { ClusterPlaceholderSpec } from "./types.ts";
import {
  ANNOTATION_EXCLUDED_FROM_WILDCARD,
  ANNOTATION_IMAGE_PULL_SECRET,
  CLUSTER_PLACEHOLDER_KIND,
  DOCKER_CONFIG_JSON_KEY,
  LABEL_CLUSTER_PLACEHOLDER,
  OWN_API_VERSION,
  REASON_SECRET_EXISTS,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../constants.ts";
import { compileNamespaceNames, type Glob, globEntry } from "./destinations.ts";
import { compileLabelSelector, type LabelMatcher } from "./label-selector.ts";
import type { FieldProblem, LabelSelector, NamespaceView } from "./types.ts";

export interface CompiledClusterPlaceholder {
  secretName: string;
  names: ReadonlyMap<string, string>;
  globs: readonly Glob[];
  selector: LabelMatcher | undefined;
  annotations: readonly (readonly [string, string])[] | undefined;
  /** Its description is also the label selector the pod watch sends to the API server. */
  withPods: LabelMatcher | undefined;
  serviceAccounts: readonly string[];
}

export type CompiledResult =
  { ok: true; compiled: CompiledClusterPlaceholder } | { ok: false; problems: FieldProblem[] };

export type NamespaceMatch = { matches: true; reasons: string[] } | { matches: false; why: string };

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE_MAX = 63;

/** `name` is the ClusterPlaceholder's: it becomes a label value on every placeholder it creates. */
export function compileClusterPlaceholder(name: string, spec: ClusterPlaceholderSpec): CompiledResult {
  const problems: FieldProblem[] = [];
  if (name.length > LABEL_VALUE_MAX) {
    problems.push({
      field: "metadata.name",
      message: `Expected at most ${LABEL_VALUE_MAX} characters (it is the value of the label ${LABEL_CLUSTER_PLACEHOLDER}): use a shorter name`,
    });
  }
  problems.push(...secretNameProblems(spec.secretName, "spec.secretName"));
  (spec.serviceAccounts ?? []).forEach((sa, i) =>
    problems.push(...secretNameProblems(sa, `spec.serviceAccounts[${i}]`)),
  );
  const { names: listed, selector, annotations, withPods } = spec.namespaces;
  if (listed === undefined && selector === undefined && annotations === undefined && withPods === undefined) {
    problems.push({
      field: "spec.namespaces",
      message: "Expected at least one condition: set names, selector, annotations or withPods",
    });
  }
  const { names, globs } = compileNamespaceNames(listed ?? [], "spec.namespaces.names", problems);
  const compiled = {
    secretName: spec.secretName,
    names,
    globs,
    selector: selectorOf(selector, "spec.namespaces.selector", problems),
    annotations: annotations === undefined ? undefined : Object.entries(annotations).toSorted(byKey),
    withPods: selectorOf(withPods, "spec.namespaces.withPods", problems),
    serviceAccounts: [...new Set(spec.serviceAccounts ?? [])],
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, compiled };
}

function secretNameProblems(value: string, field: string): FieldProblem[] {
  if (value.length <= 253 && DNS_SUBDOMAIN.test(value)) return [];
  return [
    {
      field,
      message: `${JSON.stringify(value)} is not a valid name: use lower-case letters, digits, '-' and '.', at most 253 characters`,
    },
  ];
}

function selectorOf(selector: LabelSelector | undefined, field: string, problems: FieldProblem[]) {
  if (selector === undefined) return undefined;
  const compiled = compileLabelSelector(selector, field);
  if (compiled.ok) return compiled.matcher;
  problems.push(...compiled.problems);
  return undefined;
}

/**
 * Whether the namespace matches (any condition holds) and every condition that holds, or why none
 * does. `matchingPods` is how many pods there match spec.namespaces.withPods.
 */
export function matchNamespace(
  compiled: CompiledClusterPlaceholder,
  namespace: NamespaceView,
  matchingPods: number,
): NamespaceMatch {
  if (namespace.terminating) return { matches: false, why: "the namespace is being deleted" };
  const reasons: string[] = [];
  const misses: string[] = [];
  const listedBy = compiled.names.get(namespace.name);
  const glob = compiled.globs.find((g) => g.matcher.match(namespace.name));
  const excluded = Object.hasOwn(namespace.annotations, ANNOTATION_EXCLUDED_FROM_WILDCARD);
  if (listedBy !== undefined) reasons.push(`listed in ${listedBy}`);
  else if (glob !== undefined && !excluded) reasons.push(`its name matches ${globEntry(glob)}`);
  else if (glob !== undefined) {
    misses.push(
      `${globEntry(glob)} matches its name, but the namespace is annotated ${ANNOTATION_EXCLUDED_FROM_WILDCARD}`,
    );
  } else if (compiled.names.size > 0 || compiled.globs.length > 0) {
    misses.push("no entry of spec.namespaces.names matches its name");
  }
  const { selector, annotations, withPods } = compiled;
  if (selector !== undefined) {
    const text = `spec.namespaces.selector ${selector.description || "{}"}`;
    if (selector.matches(namespace.labels)) reasons.push(`its labels match ${text}`);
    else misses.push(`its labels do not match ${text}`);
  }
  if (annotations !== undefined) {
    const missing = annotations.filter(([key, value]) => namespace.annotations[key] !== value);
    const text = annotations.map(([key, value]) => `${key}=${value}`).join(", ");
    if (missing.length === 0) reasons.push(`it is annotated ${text || "{}"} (spec.namespaces.annotations)`);
    else misses.push(`it is not annotated ${missing.map(([key, value]) => `${key}=${value}`).join(", ")}`);
  }
  if (withPods !== undefined) {
    const text = `spec.namespaces.withPods ${withPods.description || "{}"}`;
    if (matchingPods > 0)
      reasons.push(
        `${plural(matchingPods, "pod")} there ${matchingPods === 1 ? "matches" : "match"} ${text}`,
      );
    else misses.push(`no pod there matches ${text}`);
  }
  return reasons.length > 0 ? { matches: true, reasons } : { matches: false, why: misses.join("; ") };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const byKey = ([a]: readonly [string, string], [b]: readonly [string, string]) =>
  a < b ? -1 : a > b ? 1 : 0;

/** A Secret at a name a ClusterPlaceholder uses, as the caches see it. */
export interface SecretAtName {
  name: string;
  uid: string;
  resourceVersion: string;
  /** The ClusterPlaceholder its label names, if any: it created the Secret. */
  createdBy: string | undefined;
  placeholder: boolean;
}

export interface ProvisionFacts {
  owner: { name: string; uid: string };
  /** Undefined when the ClusterPlaceholder is gone: only withdrawing is left. */
  secretName: string | undefined;
  namespace: string;
  wanted: boolean;
  /** The Secret at secretName, if any, and every Secret there this ClusterPlaceholder created. */
  atName: SecretAtName | undefined;
  created: readonly SecretAtName[];
}

export type ProvisionAction =
  | { kind: "create"; secret: Record<string, unknown> }
  | { kind: "delete"; name: string; uid: string; resourceVersion: string };

/** Whether a matching namespace is served, and if not why; undefined where it does not match. */
export type Service = { served: true } | { served: false; reason: string; message: string } | undefined;

export interface Provision {
  actions: ProvisionAction[];
  service: Service;
}

/**
 * What to create and delete in one namespace. A Secret at the name that this ClusterPlaceholder did
 * not create is never touched: a placeholder serves as it is, anything else is reported.
 */
export function decideProvision(facts: ProvisionFacts): Provision {
  const { owner, secretName, wanted, atName } = facts;
  const keep = wanted ? secretName : undefined;
  const actions: ProvisionAction[] = facts.created
    .filter((s) => s.createdBy === owner.name && s.name !== keep)
    .map(({ name, uid, resourceVersion }) => ({ kind: "delete", name, uid, resourceVersion }));
  if (keep === undefined) return { actions, service: undefined };
  if (atName === undefined) {
    actions.push({ kind: "create", secret: placeholderFor(owner, keep, facts.namespace) });
    return { actions, service: { served: true } };
  }
  if (atName.createdBy === owner.name || atName.placeholder) return { actions, service: { served: true } };
  return { actions, service: secretExists(keep) };
}

/** A Secret named secretName that is not a placeholder is in the way. */
export const secretExists = (secretName: string): Service => ({
  served: false,
  reason: REASON_SECRET_EXISTS,
  message: `a Secret named ${secretName} that is not a placeholder exists there and is left as it is: rename it, or annotate it ${ANNOTATION_IMAGE_PULL_SECRET} to make it a placeholder`,
});

const EMPTY_DOCKER_CONFIG = Buffer.from('{"auths":{}}').toString("base64");

function placeholderFor(owner: { name: string; uid: string }, name: string, namespace: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" },
      labels: { [LABEL_CLUSTER_PLACEHOLDER]: owner.name },
      ownerReferences: [
        { apiVersion: OWN_API_VERSION, kind: CLUSTER_PLACEHOLDER_KIND, name: owner.name, uid: owner.uid },
      ],
    },
    type: SECRET_TYPE_DOCKER_CONFIG_JSON,
    data: { [DOCKER_CONFIG_JSON_KEY]: EMPTY_DOCKER_CONFIG },
  };
}
