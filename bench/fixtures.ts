// What the benchmark puts in the cluster, and what every placeholder must hold once the controller is done.
//
// - bench-src: dockerconfigjson sources, each exported, each offering one registry. Two sets:
//   - FULL (21): "star" to "*", glob-0..9 to `bench-*<k>` (the namespaces whose index ends in k),
//     sel-0..4 by toNamespaceSelector and sel-5..9 by dangerousToNamespacesSelector on the label
//     `shard` (= floor(index / 10) % 10). Every placeholder ends with three registries: the star
//     registry, one glob and one selector registry.
//   - CARVEL_COMPATIBLE (6): only what carvel's secretgen-controller understands (no globs, no label
//     selectors): "star" to "*" and sel-0..4 by dangerousToNamespacesSelector on shard in {k, k+5}.
//     Every placeholder ends with two registries.
// - bench-00000...: one namespace per placeholder, each with the placeholder `pull`.
// - noise-000..199: namespaces for the unrelated Secrets of the noise scenario.
import { randomBytes } from "node:crypto";
import {
  clusterPlaceholderCrd,
  registryCredentialCrd,
  secretExportCrd,
  secretImportCrd,
} from "../src/api/crds.ts";
import {
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_STATUS,
  API_VERSION,
  DOCKER_CONFIG_JSON_KEY,
  SECRET_EXPORT_KIND,
  SECRET_EXPORT_PLURAL,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../src/constants.ts";
import { ApiError, type KubeObject } from "../src/runtime/kube-http.ts";
import { type BenchClient, inPool, withRetry } from "./client.ts";

export const SOURCE_NAMESPACE = "bench-src";
export const PLACEHOLDER_NAME = "pull";
export const PLACEHOLDER_LABEL = "sec-bench/placeholder";
export const NOISE_LABEL = "sec-bench/noise";
export const STAR_EXPORT = "star";
export const STAR_REGISTRY = "registry.bench.example";
export const NOISE_NAMESPACES = 200;
export const NOISE_SECRET_BYTES = 2048;
/** Requests in flight while creating objects. */
export const SETUP_CONCURRENCY = 24;

export const benchNamespace = (index: number): string => `bench-${String(index).padStart(5, "0")}`;
export const noiseNamespace = (index: number): string => `noise-${String(index).padStart(3, "0")}`;
export const shardOf = (index: number): number => Math.floor(index / 10) % 10;
export const placeholderKey = (index: number): string => `${benchNamespace(index)}/${PLACEHOLDER_NAME}`;

/** The index of a bench namespace, or undefined for any other name. */
export function indexOf(namespace: string): number | undefined {
  const match = /^bench-(\d{5})$/.exec(namespace);
  return match ? Number(match[1]) : undefined;
}

const starPassword = (generation: number) => `star-${generation}`;

interface ExportFixture {
  name: string;
  registry: string;
  password: string;
  spec: Record<string, unknown>;
}

/** The exports of a run, and what they make every placeholder hold. */
export interface FixtureSet {
  name: string;
  exports: ExportFixture[];
  /** Registry → password every placeholder in bench namespace `index` must hold at this star generation. */
  expectedAuths(index: number, generation: number): Map<string, string>;
}

const starExport: ExportFixture = {
  name: STAR_EXPORT,
  registry: STAR_REGISTRY,
  password: starPassword(0),
  spec: { toNamespace: "*" },
};

const shardsIn = (shards: number[]) => ({
  dangerousToNamespacesSelector: [
    { key: "metadata.labels.shard", operator: "In", values: shards.map(String) },
  ],
});

/** An export named `name` offering the registry `name.bench.example` with the password `name`. */
const offering = (name: string, spec: Record<string, unknown>): ExportFixture => ({
  name,
  registry: `${name}.bench.example`,
  password: name,
  spec,
});
const offered = (name: string) => [`${name}.bench.example`, name] as const;

export const FULL: FixtureSet = {
  name: "full",
  exports: [
    starExport,
    ...Array.from({ length: 10 }, (_, k) => [
      offering(`glob-${k}`, { toNamespaces: [`bench-*${k}`] }),
      offering(
        `sel-${k}`,
        k < 5 ? { toNamespaceSelector: { matchLabels: { shard: String(k) } } } : shardsIn([k]),
      ),
    ]).flat(),
  ],
  expectedAuths: (index, generation) =>
    new Map([
      [STAR_REGISTRY, starPassword(generation)],
      offered(`glob-${index % 10}`),
      offered(`sel-${shardOf(index)}`),
    ]),
};

export const CARVEL_COMPATIBLE: FixtureSet = {
  name: "carvel-compatible",
  exports: [starExport, ...Array.from({ length: 5 }, (_, k) => offering(`sel-${k}`, shardsIn([k, k + 5])))],
  expectedAuths: (index, generation) =>
    new Map([[STAR_REGISTRY, starPassword(generation)], offered(`sel-${shardOf(index) % 5}`)]),
};

const dockerConfig = (registry: string, password: string) =>
  Buffer.from(
    JSON.stringify({
      auths: {
        [registry]: {
          username: "bench",
          password,
          auth: Buffer.from(`bench:${password}`).toString("base64"),
        },
      },
    }),
  ).toString("base64");

const namespacePath = (ns: string) => `/api/v1/namespaces/${ns}`;
export const secretPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`;
const CRDS_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const exportsPath = (ns: string) => `/apis/${API_VERSION}/namespaces/${ns}/${SECRET_EXPORT_PLURAL}`;

async function create(http: BenchClient, path: string, body: unknown): Promise<void> {
  await withRetry(() => http.request(path, { method: "POST", body })).catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 409) return; // already there: setup is idempotent
    throw err;
  });
}

/** Our CRDs. */
export const ourCrds = (): KubeObject[] => [
  secretExportCrd(),
  secretImportCrd(),
  clusterPlaceholderCrd(),
  registryCredentialCrd(),
];

/**
 * Creates each CRD or replaces the one of the same name (ours and carvel's share the group
 * secretgen.carvel.dev and the kinds SecretExport and SecretImport), and waits until it serves.
 */
export async function installCrds(http: BenchClient, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) {
    const name = crd.metadata?.name ?? "";
    const path = `${CRDS_PATH}/${name}`;
    const existing = await http.request<KubeObject>(path).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    });
    if (existing === undefined) await create(http, CRDS_PATH, crd);
    else
      await http.request(path, {
        method: "PUT",
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion } },
      });
    await waitEstablished(http, path);
  }
  // The CRD is established before every API server handler serves it; wait until a list works.
  for (let attempt = 0; ; attempt++) {
    try {
      await http.request(`/apis/${API_VERSION}/${SECRET_EXPORT_PLURAL}`);
      return;
    } catch (err) {
      if (attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function waitEstablished(http: BenchClient, path: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const read = await http.request<{ status?: { conditions?: { type: string; status: string }[] } }>(path);
    if (read.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return;
    if (Date.now() > deadline) throw new Error(`CRD ${path} not established`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The sources and exports of a fixture set, and the noise namespaces (empty). */
export async function createExports(http: BenchClient, fixtures: FixtureSet): Promise<void> {
  await create(http, "/api/v1/namespaces", { metadata: { name: SOURCE_NAMESPACE } });
  const { exports } = fixtures;
  await inPool(exports, SETUP_CONCURRENCY, async (e) => {
    await create(http, `${namespacePath(SOURCE_NAMESPACE)}/secrets`, {
      metadata: { name: e.name },
      type: SECRET_TYPE_DOCKER_CONFIG_JSON,
      data: { [DOCKER_CONFIG_JSON_KEY]: dockerConfig(e.registry, e.password) },
    });
    await create(http, exportsPath(SOURCE_NAMESPACE), {
      apiVersion: API_VERSION,
      kind: SECRET_EXPORT_KIND,
      metadata: { name: e.name },
      spec: e.spec,
    });
  });
  await inPool(
    Array.from({ length: NOISE_NAMESPACES }, (_, i) => noiseNamespace(i)),
    SETUP_CONCURRENCY,
    (name) => create(http, "/api/v1/namespaces", { metadata: { name, labels: { "sec-bench": "noise" } } }),
  );
}

/** Namespace `index` and its placeholder, as a user creates them: `{}` inside, no status yet. */
export async function createBenchNamespace(http: BenchClient, index: number): Promise<void> {
  const name = benchNamespace(index);
  await create(http, "/api/v1/namespaces", {
    metadata: { name, labels: { "sec-bench": "bench", shard: String(shardOf(index)) } },
  });
  await create(http, `${namespacePath(name)}/secrets`, {
    metadata: {
      name: PLACEHOLDER_NAME,
      labels: { [PLACEHOLDER_LABEL]: "true" },
      annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" },
    },
    type: SECRET_TYPE_DOCKER_CONFIG_JSON,
    data: { [DOCKER_CONFIG_JSON_KEY]: Buffer.from("{}").toString("base64") },
  });
}

/** Rotates the star source to `generation`. */
export async function rotateStar(http: BenchClient, generation: number): Promise<void> {
  await withRetry(() =>
    http.request(secretPath(SOURCE_NAMESPACE, STAR_EXPORT), {
      method: "PATCH",
      contentType: "application/merge-patch+json",
      body: { data: { [DOCKER_CONFIG_JSON_KEY]: dockerConfig(STAR_REGISTRY, starPassword(generation)) } },
    }),
  );
}

/** A placeholder back to how its user created it: `{}` and no status annotation. */
export const resetPatch = {
  metadata: { annotations: { [ANNOTATION_STATUS]: null } },
  data: { [DOCKER_CONFIG_JSON_KEY]: Buffer.from("{}").toString("base64") },
};

/** The write the controller makes when it fills a placeholder: its data and status, guarded by version. */
export const fillPatch = (resourceVersion: string, data: string, status: string) => ({
  metadata: { resourceVersion, annotations: { [ANNOTATION_STATUS]: status } },
  data: { [DOCKER_CONFIG_JSON_KEY]: data },
});

const NOISE_TYPES = ["Opaque", "kubernetes.io/tls", "helm.sh/release.v1"] as const;

/** `total` unrelated Secrets of 2 KiB (Opaque, TLS and Helm release types), spread over the noise namespaces. */
export async function createNoise(http: BenchClient, total: number, concurrency: number): Promise<void> {
  const perNamespace = Math.ceil(total / NOISE_NAMESPACES);
  const blob = (bytes: number) => randomBytes(bytes).toString("base64");
  function* secrets(): Generator<[string, KubeObject]> {
    for (let n = 0; n < NOISE_NAMESPACES; n++) {
      for (let i = 0; i < perNamespace && n * perNamespace + i < total; i++) {
        const type = NOISE_TYPES[i % NOISE_TYPES.length] ?? "Opaque";
        const helm = type === "helm.sh/release.v1";
        const labels: Record<string, string> = { [NOISE_LABEL]: "true" };
        if (helm)
          Object.assign(labels, { owner: "helm", name: `app-${i}`, status: "deployed", version: "1" });
        const data =
          type === "kubernetes.io/tls"
            ? { "tls.crt": blob(NOISE_SECRET_BYTES / 2), "tls.key": blob(NOISE_SECRET_BYTES / 2) }
            : helm
              ? { release: blob(NOISE_SECRET_BYTES) }
              : { payload: blob(NOISE_SECRET_BYTES) };
        const name = helm ? `sh.helm.release.v1.app-${i}.v1` : `noise-${i}`;
        yield [`${namespacePath(noiseNamespace(n))}/secrets`, { metadata: { name, labels }, type, data }];
      }
    }
  }
  await inPool(secrets(), concurrency, ([path, secret]) => create(http, path, secret));
}

/** Deletes the noise Secrets of one namespace (the namespace stays). */
export async function deleteNoise(http: BenchClient, index: number): Promise<void> {
  await withRetry(() =>
    http.request(`${namespacePath(noiseNamespace(index))}/secrets`, {
      method: "DELETE",
      query: { labelSelector: `${NOISE_LABEL}=true` },
    }),
  );
}
