// A supervised list+watch cache. Unlike client-node's informer it keeps only a compact view of each
// object (or nothing, when the view says the object is not interesting), reports the previous view
// on every change, takes field selectors and metadata-only watches, relists on 410 Gone, and never
// stops: any other failure backs off and resumes the watch.
import type { KubeHttp, KubeObject, WatchEvent } from "./kube-http.ts";
import { statusOf } from "./kube-http.ts";

export interface InformerOptions<V> {
  name: string;
  /** Collection path, e.g. /api/v1/namespaces. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Objects per list page (default 500); small for lists that carry Secret data. */
  pageSize?: number;
  /** Ask for PartialObjectMetadata: labels, annotations and versions without data. */
  metadataOnly?: boolean;
  /** What to keep of an object; undefined means the object is not kept. */
  view(object: KubeObject): V | undefined;
  /**
   * Called for every change of a kept view; previous/next undefined for add/delete. Also called with
   * both undefined when an object that was not kept, but would be kept now, is deleted.
   */
  onChange(key: string, previous: V | undefined, next: V | undefined): void;
  onError?(err: unknown, attempt: number): void;
}

export interface Informer<V> {
  readonly name: string;
  get(key: string): V | undefined;
  values(): IterableIterator<V>;
  /** Resolves once the first list is in the cache. */
  start(): Promise<void>;
  stop(): void;
  synced(): boolean;
  /** False from the third failure of the list/watch in a row until a list succeeds or a watch opens. */
  healthy(): boolean;
}

const PAGE_SIZE = 500;
const INACTIVITY_TIMEOUT_MS = 150_000;
const MAX_BACKOFF_MS = 30_000;

export const objectKey = (o: KubeObject): string =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? "");

class Gone extends Error {}

export function informer<V>(http: KubeHttp, options: InformerOptions<V>): Informer<V> {
  const views = new Map<string, V>();
  const versions = new Map<string, string>();
  let stopping = false;
  let isSynced = false;
  let failures = 0;
  const stopped = new AbortController();
  const accept = (kind: string) =>
    options.metadataOnly ? `application/json;as=${kind};g=meta.k8s.io;v=v1,application/json` : undefined;
  const selectors = { fieldSelector: options.fieldSelector, labelSelector: options.labelSelector };

  function apply(key: string, object: KubeObject | undefined, deleted = false) {
    const previous = views.get(key);
    const next = object && !deleted ? options.view(object) : undefined;
    if (next === undefined) {
      versions.delete(key);
      if (views.delete(key)) options.onChange(key, previous, undefined);
      else if (deleted && object && options.view(object) !== undefined)
        options.onChange(key, undefined, undefined);
      return;
    }
    versions.set(key, object?.metadata?.resourceVersion ?? "");
    views.set(key, next);
    options.onChange(key, previous, next);
  }

  async function relist(): Promise<string> {
    const seen = new Set<string>();
    let resume: string | undefined;
    let listVersion: string;
    do {
      const page = await http.request<{
        items: KubeObject[];
        metadata: { resourceVersion: string; continue?: string };
      }>(options.path, {
        query: { ...selectors, limit: options.pageSize ?? PAGE_SIZE, continue: resume },
        accept: accept("PartialObjectMetadataList"),
      });
      for (const item of page.items ?? []) {
        const key = objectKey(item);
        seen.add(key);
        if (versions.get(key) !== item.metadata?.resourceVersion) apply(key, item);
      }
      resume = page.metadata.continue || undefined;
      listVersion = page.metadata.resourceVersion;
    } while (resume);
    for (const key of [...views.keys()]) if (!seen.has(key)) apply(key, undefined);
    return listVersion;
  }

  async function watchFrom(version: string): Promise<string> {
    let latest = version;
    const idle = new AbortController();
    const timer = setTimeout(() => idle.abort(), INACTIVITY_TIMEOUT_MS);
    const onEvent = (event: WatchEvent) => {
      timer.refresh();
      if (event.type === "ERROR") {
        const code = (event.object as { code?: number }).code;
        throw code === 410 ? new Gone() : new Error(`watch error ${code}: ${String(event.object.message)}`);
      }
      latest = event.object.metadata?.resourceVersion ?? latest;
      if (event.type !== "BOOKMARK") {
        apply(objectKey(event.object), event.object, event.type === "DELETED");
      }
    };
    const query = {
      ...selectors,
      resourceVersion: version,
      allowWatchBookmarks: true,
      timeoutSeconds: 300 + Math.floor(Math.random() * 300),
    };
    const ended = new AbortController();
    const signal = AbortSignal.any([stopped.signal, idle.signal, ended.signal]);
    try {
      // An open watch ends a run of failures: a quiet watch may deliver nothing for minutes.
      const onOpen = () => (failures = 0);
      await http.watch(
        options.path,
        { query, accept: accept("PartialObjectMetadata"), signal, onOpen },
        onEvent,
      );
    } catch (err) {
      // A watch silent for too long is ended here; the next one resumes from `latest`.
      if (!idle.signal.aborted || stopped.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      ended.abort(); // releases the connection however the stream ended
    }
    return latest;
  }

  async function run(synced: () => void) {
    let version = "";
    while (!stopping) {
      try {
        if (!version) {
          version = await relist();
          failures = 0;
          if (!isSynced) {
            isSynced = true;
            synced();
          }
        }
        version = await watchFrom(version);
        failures = 0;
      } catch (err) {
        if (stopping) return;
        if (err instanceof Gone || statusOf(err) === 410) {
          version = "";
          continue;
        }
        failures++;
        options.onError?.(err, failures);
        await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** failures));
      }
    }
  }

  return {
    name: options.name,
    get: (key) => views.get(key),
    values: () => views.values(),
    start: () => new Promise<void>((resolve) => void run(resolve)),
    stop() {
      stopping = true;
      stopped.abort();
    },
    synced: () => isSynced,
    healthy: () => failures <= 2,
  };

  function sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      stopped.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}
