// What fault tests share: a pooled raw client for creating hundreds of objects quickly, a fan-out
// scenario (one export reaching many placeholders), a poller that watches placeholders for lost
// entries while a fault runs, and metric sums.
import type { TestContext } from "node:test";
import { ANNOTATION_IMAGE_PULL_SECRET, DOCKER_CONFIG_JSON_KEY, GROUP, VERSION } from "../../src/constants.ts";
import {
  type KubeHttp,
  type KubeObject,
  kubeHttp,
  type RequestOptions,
} from "../../src/runtime/kube-http.ts";
import { adminKubeConfig, eventually, uniqueName } from "./cluster.ts";
import { type Auths, cred, dockerConfig } from "./fixtures.ts";

/**
 * One connection pool for many requests (client-node makes a new one per call). Bound to the
 * control plane on first use, so one made while a file's tests are collected talks to the private
 * plane its before() starts.
 */
export function rawClient(): KubeHttp {
  let http: KubeHttp | undefined;
  const bound = () => (http ??= kubeHttp(adminKubeConfig()));
  return {
    request: <T>(path: string, options?: RequestOptions) => bound().request<T>(path, options),
    watch: (path, options, onEvent) => bound().watch(path, options, onEvent),
  };
}

/** Runs fn over every item, at most `limit` at a time; rejects with the first failure. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const secretsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`;
export const exportsPath = (namespace: string) =>
  `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/secretexports`;
export const importsPath = (namespace: string) =>
  `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/secretimports`;

export const sourceBody = (name: string, auths: Auths) => ({
  metadata: { name },
  type: "kubernetes.io/dockerconfigjson",
  data: { [DOCKER_CONFIG_JSON_KEY]: encode(dockerConfig(auths)) },
});

export const placeholderBody = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, labels, annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } },
  type: "kubernetes.io/dockerconfigjson",
  data: { [DOCKER_CONFIG_JSON_KEY]: encode("{}") },
});

export const exportBody = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: "SecretExport",
  metadata: { name },
  spec,
});

/** An opaque Secret from/name holding `value`, exported to `to` and imported there by a SecretImport. */
export async function importValue(http: KubeHttp, from: string, to: string, name: string, value: string) {
  await http.request(secretsPath(from), {
    method: "POST",
    body: { metadata: { name }, stringData: { value } },
  });
  await http.request(exportsPath(from), { method: "POST", body: exportBody(name, { toNamespace: to }) });
  await http.request(importsPath(to), {
    method: "POST",
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "SecretImport",
      metadata: { name },
      spec: { fromNamespace: from },
    },
  });
}

/** Waits until the copy namespace/name holds `value` (see importValue). */
export const expectCopy = (
  http: KubeHttp,
  namespace: string,
  name: string,
  value: string,
  timeoutMs = 60_000,
) =>
  eventually(
    `the copy ${namespace}/${name} holds ${value}`,
    async () => {
      const copy = await http.request<{ data?: { value?: string } }>(`${secretsPath(namespace)}/${name}`);
      return Buffer.from(copy.data?.value ?? "", "base64").toString() === value ? true : undefined;
    },
    timeoutMs,
  );

export const encode = (text: string) => Buffer.from(text).toString("base64");

export const mergePatch = (http: KubeHttp, path: string, body: unknown) =>
  http.request(path, { method: "PATCH", contentType: "application/merge-patch+json", body });

/** Compacts etcd's history up to now: every older resourceVersion is gone (410) for etcd watches. */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`etcd ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<{ header: { revision: string } }>;
  };
  const revision = (await post("/v3/maintenance/status", {})).header.revision;
  await post("/v3/kv/compaction", { revision, physical: true });
  return Number(revision);
}

/** The registries of a placeholder's .dockerconfigjson; undefined when it is not a docker config. */
export function authsOf(secret: KubeObject): Auths | undefined {
  const raw = (secret.data as Record<string, string> | undefined)?.[DOCKER_CONFIG_JSON_KEY];
  if (raw === undefined) return undefined;
  try {
    return (JSON.parse(Buffer.from(raw, "base64").toString()) as { auths?: Auths }).auths;
  } catch {
    return undefined;
  }
}

/** Every Secret with this label, across namespaces, in one LIST: "namespace/name" -> Secret. */
export async function listSecrets(http: KubeHttp, labelSelector: string): Promise<Map<string, KubeObject>> {
  const list = await http.request<{ items: KubeObject[] }>("/api/v1/secrets", { query: { labelSelector } });
  return new Map(list.items.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]));
}

/**
 * One export reaching `size` namespaces, each with a placeholder: namespaces and placeholders carry
 * the label fanout=<id>, the export selects it. Credentials are versioned: version v of registry r
 * is cred(r, `v<v>`).
 */
export async function fanOut(http: KubeHttp, size: number, registries = ["fanout.example.com"]) {
  const id = uniqueName("fan");
  const label = { fanout: id };
  const source = `${id}-src`;
  const namespaces = Array.from({ length: size }, (_, i) => `${id}-${String(i).padStart(3, "0")}`);
  const auths = (version: number): Auths =>
    Object.fromEntries(registries.map((r) => [r, cred(r, `v${version}`)]));

  await http.request("/api/v1/namespaces", { method: "POST", body: { metadata: { name: source } } });
  await http.request(secretsPath(source), { method: "POST", body: sourceBody("creds", auths(1)) });
  await inParallel(namespaces, 8, async (name) => {
    await http.request("/api/v1/namespaces", { method: "POST", body: { metadata: { name, labels: label } } });
    await http.request(secretsPath(name), { method: "POST", body: placeholderBody("pull", label) });
  });
  await http.request(exportsPath(source), {
    method: "POST",
    body: exportBody("creds", { toNamespaceSelector: { matchLabels: label } }),
  });

  const placeholders = () => listSecrets(http, `fanout=${id}`);
  /** How many placeholders hold exactly version v of every registry. */
  const holding = async (version: number) => {
    const expected = JSON.stringify(auths(version));
    return [...(await placeholders()).values()].filter((s) => JSON.stringify(authsOf(s)) === expected).length;
  };
  return {
    id,
    source,
    namespaces,
    labelSelector: `fanout=${id}`,
    auths,
    placeholders,
    holding,
    /** Replaces the source's credentials with version v: the start of a fan-out. */
    rotate: (version: number) =>
      mergePatch(http, `${secretsPath(source)}/creds`, {
        data: { [DOCKER_CONFIG_JSON_KEY]: encode(dockerConfig(auths(version))) },
      }),
    /** Waits until at least `count` placeholders hold version v; returns how many do. */
    async until(version: number, count: number, timeoutMs = 120_000) {
      return eventually(
        `${count} of ${size} placeholders hold v${version}`,
        async () => {
          const n = await holding(version);
          return n >= count ? n : undefined;
        },
        timeoutMs,
      );
    },
  };
}

export interface PollReport {
  reads: number;
  /** Reads where a placeholder lacked a registry an earlier read had shown it holding. */
  violations: string[];
}

/**
 * Reads every placeholder with the label again and again until stop(), and records every read in
 * which a placeholder lacks a registry it was seen holding before (in the fault scenarios here, no
 * export is withdrawn, so a registry once filled must stay). It stops by itself when the test ends.
 */
export function placeholderPoller(t: TestContext, http: KubeHttp, labelSelector: string, everyMs = 200) {
  const seen = new Map<string, Set<string>>();
  const report: PollReport = { reads: 0, violations: [] };
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const secrets = await listSecrets(http, labelSelector).catch(() => undefined);
      if (secrets !== undefined) {
        report.reads++;
        for (const [key, secret] of secrets) {
          const registries = new Set(Object.keys(authsOf(secret) ?? {}));
          const before = seen.get(key) ?? new Set<string>();
          const missing = [...before].filter((r) => !registries.has(r));
          if (missing.length > 0) {
            report.violations.push(`read ${report.reads}: ${key} lost ${missing.join(", ")}`);
          }
          seen.set(key, new Set([...before, ...registries]));
        }
      }
      await sleep(everyMs);
    }
  })();
  const stop = async (): Promise<PollReport> => {
    stopping = true;
    await loop;
    return report;
  };
  t.after(stop); // a failing test must not leave it polling
  return { stop };
}

/** The sum of every sample of a metric whose labels include these, 0 when there is none. */
export function total(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return metrics
    .split("\n")
    .filter(
      (l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)),
    )
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

/** API writes counted by the controller's rest_client_requests_total, whatever their answer. */
export const writes = (metrics: string) =>
  ["POST", "PUT", "PATCH", "DELETE"].reduce(
    (sum, method) => sum + total(metrics, "rest_client_requests_total", { method }),
    0,
  );

/**
 * Resolves once the controller has gone `quietMs` without a write or a failed reconcile, with how
 * long that took; rejects if it keeps writing or failing for `timeoutMs` (a retry storm).
 */
export async function settles(metrics: () => Promise<string>, quietMs = 3_000, timeoutMs = 30_000) {
  const started = Date.now();
  const activity = async () => {
    const text = await metrics();
    return writes(text) + total(text, "controller_runtime_reconcile_errors_total");
  };
  let last = await activity();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() - started > timeoutMs) throw new Error(`still writing or failing after ${timeoutMs} ms`);
    await sleep(250);
    const now = await activity();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return { settledAfterMs: since - started };
}
