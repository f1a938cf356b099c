// Watches what the controller does, without asking it: one list+watch of the bench placeholders (by
// label) and one of the bench exports. Knows at every event how many placeholders are correct, when
// each became correct, and how many times placeholders and exports changed (resourceVersion), which
// is what writes are checked against.
import { performance } from "node:perf_hooks";
import {
  ANNOTATION_STATUS,
  API_VERSION,
  CONDITION_RECONCILE_SUCCEEDED,
  DOCKER_CONFIG_JSON_KEY,
  SECRET_EXPORT_PLURAL,
} from "../src/constants.ts";
import { type Informer, informer } from "../src/runtime/informer.ts";
import type { KubeObject } from "../src/runtime/kube-http.ts";
import type { BenchClient } from "./client.ts";
import { type FixtureSet, indexOf, PLACEHOLDER_LABEL, SOURCE_NAMESPACE } from "./fixtures.ts";

interface PlaceholderSeen {
  key: string;
  index: number;
  resourceVersion: string;
  /** Base64 `.dockerconfigjson` and the status annotation, as the API returned them. */
  data: string;
  status: string | undefined;
  /** Registry → password, when the content parses. */
  auths: Map<string, string> | undefined;
  succeeded: boolean;
}

export type Tracker = Awaited<ReturnType<typeof startTracker>>;

/**
 * A placeholder is correct when it holds exactly the fixtures' registries and passwords and, with
 * `requireSucceeded`, its status annotation says ReconcileSucceeded (ours does; carvel's
 * secretgen-controller is judged by the data alone, and so is ours when compared with it).
 */
export async function startTracker(http: BenchClient, fixtures: FixtureSet, requireSucceeded = true) {
  let generation = 0;
  const correct = new Set<string>();
  const becameCorrect = new Map<string, number>();
  let placeholderChanges = 0;
  let exportChanges = 0;
  let lastCorrectAt = 0;
  let lastChangeAt = 0;

  const isCorrect = (seen: PlaceholderSeen) => {
    if ((requireSucceeded && !seen.succeeded) || seen.auths === undefined) return false;
    const expected = fixtures.expectedAuths(seen.index, generation);
    if (expected.size !== seen.auths.size) return false;
    for (const [registry, password] of expected) if (seen.auths.get(registry) !== password) return false;
    return true;
  };
  const judge = (key: string, seen: PlaceholderSeen | undefined) => {
    const now = performance.now();
    if (seen !== undefined && isCorrect(seen)) {
      if (!correct.has(key)) {
        correct.add(key);
        becameCorrect.set(key, now);
        lastCorrectAt = now;
      }
    } else {
      correct.delete(key);
      becameCorrect.delete(key);
    }
  };

  const placeholders: Informer<PlaceholderSeen> = informer(http, {
    name: "bench-placeholders",
    path: "/api/v1/secrets",
    labelSelector: `${PLACEHOLDER_LABEL}=true`,
    view: placeholderSeen,
    onChange(key, previous, next) {
      if (previous !== undefined && next !== undefined && previous.resourceVersion !== next.resourceVersion) {
        placeholderChanges++;
        lastChangeAt = performance.now();
      }
      judge(key, next);
    },
  });
  const exports = informer(http, {
    name: "bench-exports",
    path: `/apis/${API_VERSION}/namespaces/${SOURCE_NAMESPACE}/${SECRET_EXPORT_PLURAL}`,
    view: (o: KubeObject) => o.metadata?.resourceVersion ?? "",
    onChange(_key, previous, next) {
      if (previous !== undefined && next !== undefined && previous !== next) exportChanges++;
    },
  });
  await Promise.all([placeholders.start(), exports.start()]);

  return {
    /** Placeholders seen, correct ones, and counters of changes since the tracker started. */
    total: () => [...placeholders.values()].length,
    correct: () => correct.size,
    placeholderChanges: () => placeholderChanges,
    exportChanges: () => exportChanges,
    lastChangeAt: () => lastChangeAt,
    becameCorrectAt: (key: string) => becameCorrect.get(key),
    /** The star source was rotated to this generation: every placeholder is judged again. */
    expectGeneration(next: number) {
      generation = next;
      for (const key of [...correct]) judge(key, placeholders.get(key));
    },
    /** Resolves with the time the last placeholder became correct, once `count` are. */
    async allCorrect(count: number, timeoutMs: number): Promise<number> {
      await until(
        () => correct.size >= count,
        timeoutMs,
        () => `${correct.size}/${count} placeholders correct`,
      );
      return lastCorrectAt;
    },
    /** Resolves once every placeholder is back to `{}` without status (after a reset). */
    async allReset(count: number, timeoutMs: number): Promise<void> {
      const isReset = (p: PlaceholderSeen) => p.status === undefined && p.auths === undefined;
      await until(
        () => {
          let n = 0;
          for (const p of placeholders.values()) if (isReset(p)) n++;
          return n >= count;
        },
        timeoutMs,
        () => `placeholders not reset`,
      );
    },
    /** Key → [resourceVersion, data, status] of every placeholder now: what the limit scenario replays. */
    snapshot(): Map<string, { resourceVersion: string; data: string; status: string }> {
      const out = new Map<string, { resourceVersion: string; data: string; status: string }>();
      for (const p of placeholders.values())
        out.set(p.key, { resourceVersion: p.resourceVersion, data: p.data, status: p.status ?? "" });
      return out;
    },
    resourceVersionOf: (key: string) => placeholders.get(key)?.resourceVersion,
    keys: () => [...placeholders.values()].map((p) => p.key),
    stop() {
      placeholders.stop();
      exports.stop();
    },
  };
}

function placeholderSeen(o: KubeObject): PlaceholderSeen {
  const namespace = o.metadata?.namespace ?? "";
  const annotations = (o.metadata?.annotations ?? {}) as Record<string, string>;
  const data = ((o.data ?? {}) as Record<string, string>)[DOCKER_CONFIG_JSON_KEY] ?? "";
  const status = annotations[ANNOTATION_STATUS];
  return {
    key: `${namespace}/${o.metadata?.name ?? ""}`,
    index: indexOf(namespace) ?? -1,
    resourceVersion: o.metadata?.resourceVersion ?? "",
    data,
    status,
    auths: authsOf(data),
    succeeded: status !== undefined && status.includes(`"${CONDITION_RECONCILE_SUCCEEDED}"`),
  };
}

function authsOf(data: string): Map<string, string> | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(data, "base64").toString("utf8")) as {
      auths?: Record<string, { password?: string }>;
    };
    if (parsed.auths === undefined) return undefined;
    return new Map(Object.entries(parsed.auths).map(([registry, entry]) => [registry, entry.password ?? ""]));
  } catch {
    return undefined;
  }
}

export async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
