// A seeded random sequence of 500 operations (sources, exports, weights, placeholders, namespaces,
// labels, the exclusion annotation) against the running controller, then: the cluster is what the
// pure model in src/ says (every placeholder is a fixed point of the decision the controller makes),
// and, checked independently of that model, no placeholder holds a credential its namespace was not
// offered, and no Secret the controller does not own was changed.
// Reproduce a run with SEC_FAULT_SEED=<seed> (and SEC_FAULT_OPS=<count>); the seed is printed.
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { test } from "node:test";
import {
  ANNOTATION_EXCLUDED_FROM_WILDCARD,
  ANNOTATION_STATUS,
  ANNOTATION_WEIGHT,
  DOCKER_CONFIG_JSON_KEY,
} from "../../src/constants.ts";
import { placeholderCandidates, parseSecretDockerConfig } from "../../src/core/candidates.ts";
import { desiredPlaceholder } from "../../src/core/placeholder.ts";
import { planPlaceholder } from "../../src/core/placeholder-plan.ts";
import { normaliseRegistry } from "../../src/core/registries.ts";
import { exportEntry, namespaceView, secretView, type ExportEntry } from "../../src/views/views.ts";
import { type KubeObject, statusOf } from "../../src/runtime/kube-http.ts";
import { eventually, uniqueName } from "../support/cluster.ts";
import { startControllerProcess } from "../support/controller-process.ts";
import {
  authsOf,
  encode,
  exportBody,
  exportsPath,
  mergePatch,
  placeholderBody,
  rawClient,
  secretsPath,
  sourceBody,
  total,
  writes,
} from "../support/faults.ts";
import { type Auths, cred, dockerConfig } from "../support/fixtures.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";

const plane = usePrivateControlPlane();

const SEED = Number(process.env.SEC_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPERATIONS = Number(process.env.SEC_FAULT_OPS ?? 500);

/** mulberry32: a small seeded generator, so a seed replays the same sequence of operations. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick, chance: (p: number) => next() < p };
}

const REGISTRIES = ["r0.example.com", "R0.Example.com/", "r1.example.com", "r2.example.com"];
const CREDENTIALS = [cred("u", "a"), cred("u", "b"), cred("v", "a")];
const SOURCES = ["s0", "s1", "s2"];
const PLACEHOLDERS = ["pull-a", "pull-b"];
const WEIGHTS = [undefined, "1", "2", "-1", "not-a-number"];

type Spec = Record<string, unknown>;

test(`${OPERATIONS} random operations against the running controller leave the cluster as the model says`, async (t) => {
  t.diagnostic(`seed ${SEED} (SEC_FAULT_SEED=${SEED} replays this sequence)`);
  const rng = random(SEED);
  const http = rawClient();
  const prefix = uniqueName("rnd");
  const namespaces = Array.from({ length: 6 }, (_, i) => `${prefix}-n${i}`);
  const specs: Spec[] = [
    { toNamespace: "NS" },
    { toNamespaces: ["NS", "NS"] },
    { toNamespace: `${prefix}-n*` },
    { toNamespaces: [`${prefix}-n[0-2]`] },
    { toNamespaceSelector: { matchLabels: { team: "a" } } },
    { toNamespaces: ["NS", `${prefix}-n[`] }, // invalid: reaches nothing
  ];
  /** The resourceVersion each Secret the controller does not own had when the test last wrote it. */
  const unowned = new Map<string, string>();
  const rejected = new Map<number, number>();

  const controller = startControllerProcess([
    "--kubeconfig",
    plane().kubeconfigPath,
    "--leader-elect",
    "false",
  ]);
  t.after(() => controller.stop());

  async function attempt(op: () => Promise<unknown>) {
    try {
      await op();
    } catch (err) {
      const status = statusOf(err);
      if (status === undefined || ![403, 404, 409, 422].includes(status)) throw err;
      rejected.set(status, (rejected.get(status) ?? 0) + 1); // e.g. into a namespace being deleted
    }
  }
  const remember = (secret: KubeObject) =>
    unowned.set(
      `${secret.metadata?.namespace}/${secret.metadata?.name}`,
      secret.metadata?.resourceVersion ?? "",
    );

  async function createNamespace(name: string) {
    const labels: Record<string, string> = rng.chance(0.5) ? { team: rng.pick(["a", "b"]) } : {};
    await http.request("/api/v1/namespaces", { method: "POST", body: { metadata: { name, labels } } });
  }
  const randomAuths = (): Auths =>
    Object.fromEntries(
      Array.from({ length: 1 + Math.floor(rng.next() * 2) }, () => [
        rng.pick(REGISTRIES),
        rng.pick(CREDENTIALS),
      ]),
    );
  const randomSpec = (): Spec =>
    JSON.parse(
      JSON.stringify(rng.pick(specs)).replaceAll('"NS"', () => JSON.stringify(rng.pick(namespaces))),
    );

  const operations: [weight: number, run: () => Promise<unknown>][] = [
    [
      4,
      async () => {
        const [ns, name, auths] = [rng.pick(namespaces), rng.pick(SOURCES), randomAuths()];
        const data = { [DOCKER_CONFIG_JSON_KEY]: encode(dockerConfig(auths)) };
        try {
          remember(
            await http.request<KubeObject>(`${secretsPath(ns)}/${name}`, {
              method: "PATCH",
              contentType: "application/merge-patch+json",
              body: { data },
            }),
          );
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
          remember(
            await http.request<KubeObject>(secretsPath(ns), {
              method: "POST",
              body: sourceBody(name, auths),
            }),
          );
        }
      },
    ],
    [
      1,
      () => http.request(`${secretsPath(rng.pick(namespaces))}/${rng.pick(SOURCES)}`, { method: "DELETE" }),
    ],
    [
      4,
      async () => {
        const [ns, name, spec] = [rng.pick(namespaces), rng.pick(SOURCES), randomSpec()];
        const cleared = { toNamespace: null, toNamespaces: null, toNamespaceSelector: null, ...spec };
        await mergePatch(http, `${exportsPath(ns)}/${name}`, { spec: cleared }).catch((err: unknown) => {
          if (statusOf(err) !== 404) throw err;
          return http.request(exportsPath(ns), { method: "POST", body: exportBody(name, spec) });
        });
      },
    ],
    [
      1,
      () => http.request(`${exportsPath(rng.pick(namespaces))}/${rng.pick(SOURCES)}`, { method: "DELETE" }),
    ],
    [
      2,
      () =>
        mergePatch(http, `${exportsPath(rng.pick(namespaces))}/${rng.pick(SOURCES)}`, {
          metadata: { annotations: { [ANNOTATION_WEIGHT]: rng.pick(WEIGHTS) ?? null } },
        }),
    ],
    [
      3,
      () =>
        http.request(secretsPath(rng.pick(namespaces)), {
          method: "POST",
          body: placeholderBody(rng.pick(PLACEHOLDERS)),
        }),
    ],
    [
      0.5,
      () =>
        http.request(`${secretsPath(rng.pick(namespaces))}/${rng.pick(PLACEHOLDERS)}`, { method: "DELETE" }),
    ],
    [
      2,
      () =>
        mergePatch(http, `/api/v1/namespaces/${rng.pick(namespaces)}`, {
          metadata: { labels: { team: rng.pick(["a", "b", null]) } },
        }),
    ],
    [
      1,
      () =>
        mergePatch(http, `/api/v1/namespaces/${rng.pick(namespaces)}`, {
          metadata: { annotations: { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: rng.pick(["", null]) } },
        }),
    ],
    [0.05, () => http.request(`/api/v1/namespaces/${rng.pick(namespaces)}`, { method: "DELETE" })],
    [0.3, () => createNamespace(rng.pick(namespaces))],
  ];
  const totalWeight = operations.reduce((sum, [w]) => sum + w, 0);

  // The world to begin with: every namespace, and in each a Secret of each kind the controller
  // must never touch (an opaque one and a dockerconfigjson one that is neither placeholder nor source).
  for (const ns of namespaces) {
    await createNamespace(ns);
    remember(
      await http.request<KubeObject>(secretsPath(ns), {
        method: "POST",
        body: { metadata: { name: "bystander" }, stringData: { keep: "me" } },
      }),
    );
    remember(
      await http.request<KubeObject>(secretsPath(ns), {
        method: "POST",
        body: sourceBody("bystander-docker", { "r0.example.com": cred("by", "stander") }),
      }),
    );
  }
  const metricsBefore = await controller.metrics();
  const started = Date.now();
  for (let i = 0; i < OPERATIONS; i++) {
    let roll = rng.next() * totalWeight;
    const [, operation] = operations.find(([w]) => (roll -= w) < 0) ?? operations[0] ?? [];
    if (operation) await attempt(operation);
  }
  const operatedAt = Date.now();

  /** Every placeholder that is not what the model says it should be, with why. */
  async function divergence(): Promise<string[]> {
    const nsList = await http.request<{ items: KubeObject[] }>("/api/v1/namespaces");
    const views = new Map(nsList.items.map((o) => [o.metadata?.name ?? "", namespaceView(o)]));
    const exportList = await http.request<{ items: KubeObject[] }>(
      "/apis/secretgen.carvel.dev/v1alpha1/secretexports",
    );
    const exports = exportList.items.map(exportEntry).filter((e): e is ExportEntry => e !== undefined);
    const dockerList = await http.request<{ items: KubeObject[] }>("/api/v1/secrets", {
      query: { fieldSelector: "type=kubernetes.io/dockerconfigjson" },
    });
    const docker = new Map(dockerList.items.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o]));
    const problems: string[] = [];
    for (const [key, object] of docker) {
      const secret = secretView(object);
      const namespace = views.get(secret.namespace);
      if (!PLACEHOLDERS.includes(secret.name) || !namespace || namespace.terminating) continue;
      const sourceOf = (k: string) => {
        const source = docker.get(k);
        return source && secretView(source);
      };
      const candidates = placeholderCandidates(exports, sourceOf, namespace, (s) =>
        parseSecretDockerConfig(s.data),
      );
      const plan = planPlaceholder(secret, candidates);
      if (plan.patch !== undefined)
        problems.push(`${key} is not what the model says: ${JSON.stringify(plan.patch)}`);
      // Only a conflict lets history (which export's entry was there first) matter: every other
      // registry is what a placeholder filled from nothing would get.
      const fresh = desiredPlaceholder({ candidates, currentConfig: undefined, currentStatus: undefined });
      const contested = new Set(fresh.conflicts.map((c) => c.registry));
      const held = authsOf(object) ?? {};
      const expected = (JSON.parse(fresh.dockerConfigJson) as { auths: Auths }).auths;
      for (const registry of new Set([...Object.keys(held), ...Object.keys(expected)])) {
        if (contested.has(normaliseRegistry(registry))) continue;
        if (!isDeepStrictEqual(held[registry], expected[registry]))
          problems.push(
            `${key} holds ${registry} as ${JSON.stringify(held[registry])}, not as a fresh fill would`,
          );
      }
    }
    return problems;
  }
  const left = await eventually(
    `every placeholder is what the model says (seed ${SEED})`,
    async () => ((await divergence()).length === 0 ? true : undefined),
    120_000,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${(await divergence()).join("; ")}`, { cause: err });
  });
  assert.ok(left);
  const convergedAt = Date.now();

  // Independently of src/: what each namespace was offered, from the few spec forms made above.
  const nsList = await http.request<{ items: KubeObject[] }>("/api/v1/namespaces");
  const live = new Map(
    nsList.items
      .filter(
        (o) =>
          o.metadata?.name?.startsWith(prefix) && (o.status as { phase?: string }).phase !== "Terminating",
      )
      .map((o) => [
        o.metadata?.name ?? "",
        o.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> },
      ]),
  );
  const reaches = (spec: Spec, ns: string) => {
    const metadata = live.get(ns);
    if (metadata === undefined) return false;
    const entries = [spec.toNamespace, ...((spec.toNamespaces as string[] | undefined) ?? [])].filter(
      (e) => typeof e === "string",
    );
    if (entries.some((e) => e.endsWith("["))) return false; // invalid: reaches nothing
    const excluded = Object.hasOwn(metadata.annotations ?? {}, ANNOTATION_EXCLUDED_FROM_WILDCARD);
    const glob = (e: string) =>
      e.endsWith("-n*")
        ? ns.startsWith(e.slice(0, -1))
        : /^n\[0-2\]$/.test(e.slice(prefix.length + 1)) && /-n[0-2]$/.test(ns);
    return (
      entries.includes(ns) ||
      (!excluded && entries.some((e) => /[*[]/.test(e) && glob(e))) ||
      (spec.toNamespaceSelector !== undefined && metadata.labels?.team === "a")
    );
  };
  const exportList = await http.request<{
    items: { metadata: { namespace: string; name: string }; spec: Spec }[];
  }>("/apis/secretgen.carvel.dev/v1alpha1/secretexports");
  const secrets = await http.request<{ items: KubeObject[] }>("/api/v1/secrets");
  const byKey = new Map(secrets.items.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o]));
  const leaks: string[] = [];
  let [placeholders, registries, conflicts] = [0, 0, 0];
  for (const [key, secret] of byKey) {
    const [ns = "", name] = key.split("/");
    if (!live.has(ns) || !PLACEHOLDERS.includes(name ?? "")) continue;
    placeholders++;
    const status = (secret.metadata as { annotations?: Record<string, string> }).annotations?.[
      ANNOTATION_STATUS
    ];
    conflicts += (JSON.parse(status ?? "{}") as { conflicts?: unknown[] }).conflicts?.length ?? 0;
    registries += Object.keys(authsOf(secret) ?? {}).length;
    const offered = exportList.items
      .filter((e) => reaches(e.spec, ns))
      .flatMap((e) =>
        Object.entries(authsOf(byKey.get(`${e.metadata.namespace}/${e.metadata.name}`) ?? {}) ?? {}),
      );
    for (const [registry, entry] of Object.entries(authsOf(secret) ?? {})) {
      if (!offered.some(([r, e]) => r === registry && isDeepStrictEqual(e, entry)))
        leaks.push(
          `${key} holds ${registry} as ${JSON.stringify(entry)}, which no export reaching ${ns} offers`,
        );
    }
  }
  const changed = [...unowned]
    .filter(([key, version]) => byKey.has(key) && byKey.get(key)?.metadata?.resourceVersion !== version)
    .map(([key]) => key);

  const metricsAfter = await controller.metrics();
  t.diagnostic(
    JSON.stringify({
      seed: SEED,
      operations: OPERATIONS,
      operationsMs: operatedAt - started,
      rejectedByStatus: Object.fromEntries(rejected),
      convergedAfterOperationsMs: convergedAt - operatedAt,
      placeholdersChecked: placeholders,
      registriesFilled: registries,
      conflictsKept: conflicts,
      unownedSecretsChecked: [...unowned.keys()].filter((k) => byKey.has(k)).length,
      writes: writes(metricsAfter) - writes(metricsBefore),
      reconcileErrors:
        total(metricsAfter, "controller_runtime_reconcile_errors_total") -
        total(metricsBefore, "controller_runtime_reconcile_errors_total"),
    }),
  );
  assert.deepEqual(leaks, [], `no credential where it was not offered (seed ${SEED})`);
  assert.deepEqual(changed, [], `no Secret the controller does not own was changed (seed ${SEED})`);
  assert.ok(placeholders > 0, `the sequence left placeholders to check (seed ${SEED})`);
  assert.equal(controller.child.exitCode, null);
});
