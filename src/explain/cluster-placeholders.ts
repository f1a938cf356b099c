// `explain -n N`: which ClusterPlaceholders match N and why (or why not), decided by the same core
// function the controller uses, from one read of the ClusterPlaceholders and of N's matching pods.
import { CLUSTER_PLACEHOLDER_PLURAL, OWN_API_VERSION } from "../constants.ts";
import { matchNamespace } from "../core/cluster-placeholder.ts";
import type { FieldProblem, NamespaceView } from "../core/types.ts";
import { getOrUndefined, type KubeHttp, type KubeObject } from "../runtime/kube-http.ts";
import { type ClusterPlaceholderEntry, clusterPlaceholderEntry } from "../views/cluster-placeholders.ts";
import { namespaceView } from "../views/views.ts";
import { wrap } from "./render.ts";

export interface ClusterPlaceholderExplanation {
  name: string;
  secretName: string | undefined;
  matches: boolean;
  /** Every condition that holds, when it matches; otherwise why none does. */
  reasons: string[];
  problems: FieldProblem[];
  serviceAccounts: string[];
}

export interface ClusterPlaceholderInput {
  entries: ClusterPlaceholderEntry[];
  namespace: NamespaceView | undefined;
  /** Pods in the namespace matching a withPods selector (by its description). */
  pods: ReadonlyMap<string, number>;
}

const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

export async function readClusterPlaceholders(
  http: KubeHttp,
  namespace: string,
): Promise<ClusterPlaceholderInput> {
  const ns = encodeURIComponent(namespace);
  // Not found: no such namespace, or the CRD is not installed.
  const [list, nsObject] = await Promise.all([
    getOrUndefined<{ items?: KubeObject[] }>(http, `/apis/${OWN_API_VERSION}/${CLUSTER_PLACEHOLDER_PLURAL}`),
    getOrUndefined(http, `/api/v1/namespaces/${ns}`),
  ]);
  const entries = (list?.items ?? []).flatMap((o) => clusterPlaceholderEntry(o) ?? []);
  const selectors = new Set(
    entries.flatMap((e) => (e.compiled.ok ? (e.compiled.compiled.withPods?.description ?? []) : [])),
  );
  const pods = new Map<string, number>();
  for (const selector of selectors) {
    const page = await http.request<{ items?: unknown[] }>(`/api/v1/namespaces/${ns}/pods`, {
      query: { labelSelector: selector },
      accept: METADATA_LIST,
    });
    pods.set(selector, page.items?.length ?? 0);
  }
  return { entries, namespace: nsObject && namespaceView(nsObject), pods };
}

export function explainClusterPlaceholders(input: ClusterPlaceholderInput): ClusterPlaceholderExplanation[] {
  return input.entries
    .map((entry): ClusterPlaceholderExplanation => {
      const base = { name: entry.name, secretName: entry.spec.ok ? entry.spec.spec.secretName : undefined };
      if (!entry.compiled.ok) {
        const reasons = ["its spec is invalid: it creates and removes nothing until it is fixed"];
        return { ...base, matches: false, reasons, problems: entry.compiled.problems, serviceAccounts: [] };
      }
      const { compiled } = entry.compiled;
      const namespace = input.namespace;
      const match =
        namespace === undefined
          ? { matches: false as const, why: "the namespace does not exist" }
          : matchNamespace(compiled, namespace, input.pods.get(compiled.withPods?.description ?? "") ?? 0);
      return {
        ...base,
        matches: match.matches,
        reasons: match.matches ? match.reasons : [match.why],
        problems: [],
        serviceAccounts: [...compiled.serviceAccounts],
      };
    })
    .toSorted((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function renderClusterPlaceholders(
  list: readonly ClusterPlaceholderExplanation[],
  namespace: string,
  width = 80,
): string {
  if (list.length === 0) return "";
  const lines = [""];
  const line = (text: string, indent: number) => lines.push(...wrap(text, width, indent, indent + 2));
  const matching = list.filter((c) => c.matches);
  line(`ClusterPlaceholders matching ${namespace} (${matching.length} of ${list.length}):`, 0);
  for (const c of list) {
    const accounts = c.serviceAccounts.length > 0 ? `, ServiceAccounts ${c.serviceAccounts.join(", ")}` : "";
    const what = c.secretName === undefined ? "" : ` keeps Secret ${c.secretName}${accounts}`;
    line(`${c.name}${what}: ${c.matches ? "matches" : "does not match"}`, 2);
    for (const reason of c.reasons) line(`- ${reason}`, 4);
    for (const p of c.problems) line(`- ${p.field}: ${p.message}`, 4);
  }
  return `${lines.join("\n")}\n`;
}
