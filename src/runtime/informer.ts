// A supervised list+watch cache. Unlike client-node's informer it keeps only a compact view of each
// object (or nothing, when the view says the object is not interesting), reports the previous view
// on every change, takes field selectors and metadata-only watches, and follows client-go's reflector:
// lists come from the watch cache, a watch resumes from its last event (bookmarks included), 410 Gone
// relists, and any other failure (a very short watch too) backs off with jitter; it never stops.
import type { KubeHttp, KubeObject, WatchEvent } from "./kube-http.ts";
import { statusOf } from "./kube-http.ts";
import { type Clock, realClock } from "./work-queue.ts";

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
  /** Called after every list: whatever was derived from earlier reads can no longer be vouched for. */
  onRelist?(): void;
  clock?: Clock;
}

export interface Informer<V> {
  readonly name: string;
  get(key: string): V | undefined;
  values(): IterableIterator<V>;
  /** Resolves once the first list is in the cache. */
  start(): Promise<void>;
  stop(): void;
  synced(): boolean;
  /**
   * False from the third failure of the list/watch in a row (very short watches included) until a
   * list succeeds or a watch delivers an event or stays open a second.
   */
  healthy(): boolean;
}

const PAGE_SIZE = 500;
/** A watch silent this long is dead (the API server sends a bookmark about every minute). */
const INACTIVITY_TIMEOUT_MS = 150_000;
/** How long past its timeoutSeconds a watch may run before the client ends it. */
const WATCH_GRACE_MS = 30_000;
/** A watch that ends sooner than this without an event is a failure (client-go's "very short watch"). */
const SHORT_WATCH_MS = 1_000;
const BASE_BACKOFF_MS = 800;
const MAX_BACKOFF_MS = 30_000;

export const objectKey = (o: KubeObject): string =>
  o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? "");

class Gone extends Error {}
/** An ERROR event other than 410: the server cannot serve this version; the next attempt relists. */
class WatchError extends Error {}
class ShortWatch extends Error {
  constructor() {
    super("the watch ended within a second without an event");
  }
}

/** Exponential, capped, with up to 100 % jitter so informers that failed together retry apart. */
export const backoffMs = (failures: number): number =>
  Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (failures - 1)) * (1 + Math.random());

export function informer<V>(http: KubeHttp, options: InformerOptions<V>): Informer<V> {
  const clock = options.clock ?? realClock;
  const views = new Map<string, V>();
  const versions = new Map<string, string>();
  let stopping = false;
  let isSynced = false;
  let failures = 0;
  /** The resourceVersion of the last list or event: where the next watch or relist starts. */
  let version = "";
  let listed = false;
  /** False after a list was answered 410 for `version`: the next one reads the latest (client-go's "unavailable"). */
  let versionListable = true;
  const stopped = new AbortController();
  const accept = (kind: string) =>
    options.metadataOnly ? `application/json;as=${kind};g=meta.k8s.io;v=v1,application/json` : undefined;
  const selectors = { fieldSelector: options.fieldSelector, labelSelector: options.labelSelector };

  /** Puts one object's view into the cache, or takes it out, and reports the change. */
  function store(key: string, object: KubeObject | undefined, deleted = false) {
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

  /**
   * Lists from the API server's watch cache, not etcd: resourceVersion 0 at first, then "not older
   * than" what this cache saw, so a relist never moves the cache back in time. Continued pages carry
   * no resourceVersion (the token has it); an expired token is a failure like any other.
   */
  async function relist(): Promise<string> {
    const seen = new Set<string>();
    let resume: string | undefined;
    let listVersion: string;
    const from = !versionListable ? "" : version === "" ? "0" : version;
    do {
      const first = resume === undefined;
      const page = await http
        .request<{
          items: KubeObject[];
          metadata: { resourceVersion: string; continue?: string };
        }>(options.path, {
          query: {
            ...selectors,
            limit: options.pageSize ?? PAGE_SIZE,
            continue: resume,
            resourceVersion: first && from !== "" ? from : undefined,
            resourceVersionMatch: first && from !== "" && from !== "0" ? "NotOlderThan" : undefined,
          },
          accept: accept("PartialObjectMetadataList"),
          signal: stopped.signal,
        })
        .catch((err: unknown) => {
          if (first && statusOf(err) === 410) versionListable = false;
          throw err;
        });
      for (const item of page.items ?? []) {
        const key = objectKey(item);
        seen.add(key);
        if (versions.get(key) !== item.metadata?.resourceVersion) store(key, item);
      }
      resume = page.metadata.continue || undefined;
      listVersion = page.metadata.resourceVersion;
    } while (resume);
    for (const key of [...views.keys()]) if (!seen.has(key)) store(key, undefined);
    versionListable = true;
    options.onRelist?.();
    return listVersion;
  }

  /** Watches from `version`, advancing it with every event (bookmarks too), so a broken watch resumes where it broke. */
  async function watch(): Promise<void> {
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const started = clock.now();
    let delivered = false;
    const abandon = new AbortController();
    const idle = () => clock.setTimeout(() => abandon.abort(), INACTIVITY_TIMEOUT_MS);
    let idleTimer = idle();
    const deadline = clock.setTimeout(() => abandon.abort(), timeoutSeconds * 1000 + WATCH_GRACE_MS);
    // A watch open this long ends a run of failures: a quiet watch may deliver nothing for minutes.
    const settled = clock.setTimeout(() => (failures = 0), SHORT_WATCH_MS);
    const onEvent = (event: WatchEvent) => {
      clock.clearTimeout(idleTimer);
      idleTimer = idle();
      if (event.type === "ERROR") {
        const code = (event.object as { code?: number }).code;
        throw code === 410
          ? new Gone()
          : new WatchError(`watch error ${code}: ${String(event.object.message)}`);
      }
      delivered = true;
      failures = 0;
      version = event.object.metadata?.resourceVersion ?? version;
      if (event.type !== "BOOKMARK") {
        store(objectKey(event.object), event.object, event.type === "DELETED");
      }
    };
    const query = { ...selectors, resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds };
    const ended = new AbortController();
    const signal = AbortSignal.any([stopped.signal, abandon.signal, ended.signal]);
    try {
      await http.watch(options.path, { query, accept: accept("PartialObjectMetadata"), signal }, onEvent);
    } catch (err) {
      // A watch silent or open for too long is ended here; the next one resumes from `version`.
      if (!abandon.signal.aborted || stopped.signal.aborted) throw err;
    } finally {
      for (const timer of [idleTimer, deadline, settled]) clock.clearTimeout(timer);
      ended.abort(); // releases the connection however the stream ended
    }
    if (!delivered && clock.now() - started < SHORT_WATCH_MS) throw new ShortWatch();
  }

  async function run(synced: () => void) {
    while (!stopping) {
      try {
        if (!listed) {
          version = await relist();
          listed = true;
          failures = 0;
          if (!isSynced) {
            isSynced = true;
            synced();
          }
        }
        await watch();
      } catch (err) {
        if (stopping) return;
        if (err instanceof Gone) {
          listed = false; // the watch's version is compacted away: relist at once, from the watch cache
          continue;
        }
        if (err instanceof WatchError) listed = false;
        failures++;
        options.onError?.(err, failures);
        await sleep(backoffMs(failures));
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

  /** Waits, or until stop(); leaves no listener on the stop signal behind. */
  function sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clock.clearTimeout(timer);
        stopped.signal.removeEventListener("abort", wake);
        resolve();
      };
      const timer = clock.setTimeout(wake, ms);
      stopped.signal.addEventListener("abort", wake, { once: true });
    });
  }
}
