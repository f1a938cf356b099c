// The controller's view of the cluster: four informer caches (never every Secret) plus the indexes
// that answer "what can this change affect" without scanning anything but exports and namespaces.
import { LABEL_IMPORTED, SECRET_TYPE_DOCKER_CONFIG_JSON } from "../constants.ts";
import { parseSecretDockerConfig, placeholderCandidates } from "../core/candidates.ts";
import { reach, type Reach } from "../core/destinations.ts";
import type { ParsedDockerConfig } from "../core/dockerconfig.ts";
import type { Candidate } from "../core/placeholder.ts";
import type { ExistingSecret } from "../core/imports.ts";
import { keyOf, splitKey } from "../core/keys.ts";
import type { NamespaceView, SecretView } from "../core/types.ts";
import { informer } from "../runtime/informer.ts";
import { getOrUndefined, type KubeHttp, type KubeObject } from "../runtime/kube-http.ts";
import {
  copyView,
  type ExportEntry,
  exportEntry,
  type ImportEntry,
  importEntry,
  isPlaceholder,
  namespaceView,
  type SecretMetadata,
  secretMetadataView,
  secretView,
} from "../views/views.ts";

/** Lists that carry Secret data page this many at a time: a page is held whole while it is read. */
const DATA_PAGE_SIZE = 10;
/** Distinct candidate lists kept (each a few exports long); more than a cluster has export combinations. */
const CANDIDATE_LISTS = 1_000;

type OnChange<V> = (key: string, previous: V | undefined, next: V | undefined) => void;

export interface ChangeHandlers {
  namespace: OnChange<NamespaceView>;
  export: OnChange<ExportEntry>;
  dockerSecret: OnChange<SecretView>;
  secretMetadata: OnChange<SecretMetadata>;
  import: OnChange<ImportEntry>;
  copy: OnChange<ExistingSecret>;
  /** The Secret metadata was relisted: sources no watch kept may have gone meanwhile. */
  sourcesRelisted(): void;
  informerError(name: string, err: unknown, attempt: number): void;
}

export type ClusterState = ReturnType<typeof createClusterState>;

/** Caches of other kinds started before the Secret watches, and the Secrets they need kept. */
export interface MoreCaches {
  informers: { start(): Promise<void>; stop(): void; synced(): boolean; healthy(): boolean }[];
  wantsSecret(key: string): boolean;
}

export function createClusterState(http: KubeHttp, handlers: ChangeHandlers, more?: MoreCaches) {
  // Placeholders by namespace, from the two Secret watches: of type dockerconfigjson, and of any other
  // type (wrong-type placeholders). Kept apart: a Secret deleted and recreated with another type
  // arrives on the two watches in no fixed order.
  const placeholdersByNamespace = new Map<string, Set<string>>();
  const wrongTypeByNamespace = new Map<string, Set<string>>();
  const importsBySource = new Map<string, Set<string>>();
  const importsByNamespace = new Map<string, Set<string>>();
  /** Import UIDs: only copies one of them controls are kept, with their data. */
  const importUids = new Set<string>();
  /** Data of exported sources, read once per resourceVersion; dropped with the export. */
  const fetchedSources = new Map<string, SecretView>();
  /** Reads of sources in flight; a change of the Secret marks its read stale, so it is not kept. */
  const reads = new Map<string, { stale: boolean; read: Promise<SecretView | undefined> }>();
  const parsedSources = new Map<string, { resourceVersion: string; parsed: ParsedDockerConfig }>();
  /** dockerconfigjson Secrets kept without their data: every one but the placeholders. */
  const withoutData = new WeakSet<SecretView>();
  /** Bumped when an export's placement changes: what `reaching` remembers per namespace view is then stale. */
  let exportsGeneration = 0;
  /** The exports reaching a namespace view (views are replaced on every change of the namespace). */
  const reachingMemo = new WeakMap<NamespaceView, { generation: number; reaching: ExportEntry[] }>();
  /**
   * One candidate list per distinct set of candidates, shared by every placeholder it is for, so
   * that what is decided from it can be shared too (see desired-memo.ts).
   */
  const candidateLists = new Map<string, Candidate[]>();
  const sourceIds = new WeakMap<ParsedDockerConfig, number>();
  let nextSourceId = 0;
  const onError = (name: string) => (err: unknown, attempt: number) =>
    handlers.informerError(name, err, attempt);

  const namespaces = informer(http, {
    name: "namespaces",
    path: "/api/v1/namespaces",
    view: namespaceView,
    onChange: handlers.namespace,
    onError: onError("namespaces"),
  });
  const exports = informer(http, {
    name: "secretexports",
    path: "/apis/secretgen.carvel.dev/v1alpha1/secretexports",
    view: exportEntry,
    onChange: (key, previous, next) => {
      // A status write changes the entry, not where it reaches.
      if (previous?.placement !== next?.placement) {
        exportsGeneration++;
        candidateLists.clear();
      }
      if (next === undefined) forgetSource(key);
      handlers.export(key, previous, next);
    },
    onError: onError("secretexports"),
  });
  const imports = informer(http, {
    name: "secretimports",
    path: "/apis/secretgen.carvel.dev/v1alpha1/secretimports",
    view: importEntry,
    onChange: (key, previous, next) => {
      indexImport(key, previous, false);
      indexImport(key, next, true);
      handlers.import(key, previous, next);
    },
    onError: onError("secretimports"),
  });
  const copies = informer(http, {
    name: "imported-copies",
    path: "/api/v1/secrets",
    labelSelector: `${LABEL_IMPORTED}=true`,
    pageSize: DATA_PAGE_SIZE,
    // The label can be set by anyone who may create Secrets: only our copies are kept.
    view: (o) => {
      const copy = copyView(o);
      return copy.controllerUid !== undefined && importUids.has(copy.controllerUid) ? copy : undefined;
    },
    onChange: handlers.copy,
    onError: onError("imported-copies"),
  });
  const dockerSecrets = informer(http, {
    name: "dockerconfigjson-secrets",
    path: "/api/v1/secrets",
    fieldSelector: `type=${SECRET_TYPE_DOCKER_CONFIG_JSON}`,
    pageSize: DATA_PAGE_SIZE,
    view: dockerView,
    onChange: (key, previous, next) => {
      if (next === undefined || previous?.resourceVersion !== next.resourceVersion) secretChanged(key);
      indexPlaceholder(placeholdersByNamespace, key, isPlaceholder(next?.annotations));
      handlers.dockerSecret(key, previous, next);
    },
    onRelist: () => (parsedSources.clear(), candidateLists.clear()),
    onError: onError("dockerconfigjson-secrets"),
  });
  // Metadata only, of every Secret the watch above does not cover, keeping placeholders and exported
  // sources: how placeholders of the wrong type and sources of other types are seen without caching
  // every Secret in the cluster. Leaving dockerconfigjson Secrets out halves the watch events each
  // placeholder write causes.
  const secretMetadata = informer(http, {
    name: "secret-metadata",
    path: "/api/v1/secrets",
    fieldSelector: `type!=${SECRET_TYPE_DOCKER_CONFIG_JSON}`,
    metadataOnly: true,
    view: (o) =>
      secretMetadataView(
        o,
        (key) =>
          exports.get(key) !== undefined || imports.get(key) !== undefined || more?.wantsSecret(key) === true,
      ),
    onChange: (key, previous, next) => {
      indexPlaceholder(wrongTypeByNamespace, key, next?.placeholder === true);
      secretChanged(key);
      handlers.secretMetadata(key, previous, next);
    },
    // A relist follows a gap in which events may have been missed (a source deleted while the watch
    // was down), so every read made before it is forgotten.
    onRelist() {
      fetchedSources.clear();
      parsedSources.clear();
      candidateLists.clear();
      for (const read of reads.values()) read.stale = true;
      handlers.sourcesRelisted();
    },
    onError: onError("secret-metadata"),
  });
  const informers = [
    namespaces,
    exports,
    imports,
    dockerSecrets,
    secretMetadata,
    copies,
    ...(more?.informers ?? []),
  ];

  /** A Secret read straight from the API (not cached): for the few the watches may not have kept. */
  async function readSecret(key: string): Promise<KubeObject | undefined> {
    const [namespace, name] = splitKey(key);
    return getOrUndefined(http, `/api/v1/namespaces/${namespace}/secrets/${name}`);
  }

  /** Placeholders with their data; any other dockerconfigjson Secret without it. */
  function dockerView(o: KubeObject): SecretView {
    const view = secretView(o);
    if (isPlaceholder(view.annotations)) return view;
    const stripped = { ...view, data: {} };
    withoutData.add(stripped);
    return stripped;
  }

  function secretChanged(key: string) {
    fetchedSources.delete(key);
    // The shared candidate lists hold parsed sources: none outlives its source's version.
    if (parsedSources.delete(key) || exports.get(key) !== undefined) candidateLists.clear();
    const read = reads.get(key);
    if (read) read.stale = true;
  }

  /** Drops what is held for the source of an export that is gone. */
  function forgetSource(key: string) {
    secretChanged(key);
    reads.delete(key);
  }

  function reachingExports(namespace: NamespaceView): ExportEntry[] {
    const memo = reachingMemo.get(namespace);
    if (memo?.generation === exportsGeneration) return memo.reaching;
    const reaching = [...exports.values()].filter(
      (e) => e.destinations.ok && reach(e.destinations.compiled, namespace).reached,
    );
    reachingMemo.set(namespace, { generation: exportsGeneration, reaching });
    return reaching;
  }

  /** The list equal to `candidates` handed out before, or `candidates`, now the one for its set. */
  function shared(candidates: Candidate[]): readonly Candidate[] {
    if (candidates.length === 0) return candidates;
    const fingerprint = candidates
      .map((c) => `${c.exportKey} ${c.weight} ${+c.sameNamespace}${+c.exact} ${sourceId(c.source)}`)
      .join("\n");
    const known = candidateLists.get(fingerprint);
    if (known !== undefined) return known;
    // Lists for sources replaced since are never asked for again: bounded by starting over.
    if (candidateLists.size >= CANDIDATE_LISTS) candidateLists.clear();
    candidateLists.set(fingerprint, candidates);
    return candidates;
  }

  function sourceId(source: ParsedDockerConfig): number {
    let id = sourceIds.get(source);
    if (id === undefined) sourceIds.set(source, (id = nextSourceId++));
    return id;
  }

  /** The Secret's data, read once per resourceVersion while exported; concurrent asks share one read. */
  async function readSource(key: string): Promise<SecretView | undefined> {
    const pending = reads.get(key);
    if (pending && !pending.stale) return pending.read;
    const entry = {
      stale: false,
      read: readSecret(key).then((found) => {
        if (reads.get(key) === entry) reads.delete(key);
        const view = found && secretView(found);
        if (view && !entry.stale && exports.get(key) !== undefined) fetchedSources.set(key, view);
        return view;
      }),
    };
    reads.set(key, entry);
    return entry.read;
  }

  async function sourceData(key: string): Promise<SecretView | undefined> {
    const docker = dockerSecrets.get(key);
    if (docker !== undefined && !withoutData.has(docker)) return docker;
    const seen = docker ?? secretMetadata.get(key);
    const fetched = fetchedSources.get(key);
    // Any change since the read would have been an event for it, dropping the read.
    if (fetched && (seen === undefined || fetched.resourceVersion === seen.resourceVersion)) return fetched;
    return readSource(key);
  }

  function indexImport(key: string, entry: ImportEntry | undefined, present: boolean) {
    if (entry === undefined) return;
    if (present) importUids.add(entry.uid);
    else importUids.delete(entry.uid);
    const from = entry.spec.ok ? `${entry.spec.spec.fromNamespace}/${entry.name}` : undefined;
    for (const [index, indexKey] of [
      [importsBySource, from],
      [importsByNamespace, entry.namespace],
    ] as const) {
      if (indexKey === undefined) continue;
      const keys = index.get(indexKey) ?? new Set<string>();
      if (present) keys.add(key);
      else keys.delete(key);
      if (keys.size > 0) index.set(indexKey, keys);
      else index.delete(indexKey);
    }
  }

  function indexPlaceholder(index: Map<string, Set<string>>, key: string, present: boolean) {
    const [namespace = ""] = key.split("/", 1);
    const keys = index.get(namespace) ?? new Set<string>();
    if (present) keys.add(key);
    else keys.delete(key);
    if (keys.size > 0) index.set(namespace, keys);
    else index.delete(namespace);
  }

  /** The parsed `.dockerconfigjson` of a source, parsed once per resourceVersion. */
  function parsedSource(secret: SecretView): ParsedDockerConfig {
    const key = keyOf(secret);
    const memo = parsedSources.get(key);
    if (memo?.resourceVersion === secret.resourceVersion) return memo.parsed;
    const parsed = parseSecretDockerConfig(secret.data);
    if (exports.get(key) !== undefined)
      parsedSources.set(key, { resourceVersion: secret.resourceVersion, parsed });
    return parsed;
  }

  return {
    namespaces,
    exports,
    imports,
    copies,
    dockerSecrets,
    secretMetadata,
    informers,
    placeholdersIn: (namespace: string): string[] => [
      ...new Set([
        ...(placeholdersByNamespace.get(namespace) ?? []),
        ...(wrongTypeByNamespace.get(namespace) ?? []),
      ]),
    ],
    importsOf: (sourceKey: string): string[] => [...(importsBySource.get(sourceKey) ?? [])],
    importsIn: (namespace: string): string[] => [...(importsByNamespace.get(namespace) ?? [])],

    /**
     * Type and data of an exported source, read once per resourceVersion (the caches keep no
     * source's data), so only exported Secrets' data is ever held.
     */
    sourceData,

    readSecret,
    allPlaceholders: (): string[] => [
      ...new Set(
        [...placeholdersByNamespace.values(), ...wrongTypeByNamespace.values()].flatMap((keys) => [...keys]),
      ),
    ],
    parsedSource,

    reachOf(entry: ExportEntry, namespace: NamespaceView): Reach | undefined {
      return entry.destinations.ok ? reach(entry.destinations.compiled, namespace) : undefined;
    },

    /**
     * Namespaces (by name) that an export reaches: for the export as cached, from what each
     * namespace remembers reaching it (an export's count is taken on every namespace change).
     */
    namespacesReachedBy(entry: ExportEntry | undefined): string[] {
      if (!entry?.destinations.ok) return [];
      const { compiled } = entry.destinations;
      const key = keyOf(entry);
      const reaches =
        exports.get(key)?.placement === entry.placement
          ? (ns: NamespaceView) => reachingExports(ns).some((e) => keyOf(e) === key)
          : (ns: NamespaceView) => reach(compiled, ns).reached;
      return [...namespaces.values()].filter(reaches).map((ns) => ns.name);
    },

    /**
     * The exports reaching a namespace whose source is a dockerconfigjson Secret (SPEC §3.2). Equal
     * lists are the same array: namespaces reached by the same exports of the same sources share one.
     */
    async candidatesFor(namespace: NamespaceView): Promise<readonly Candidate[]> {
      const reaching = reachingExports(namespace);
      const docker = reaching.map(keyOf).filter((k) => dockerSecrets.get(k));
      const sources = new Map(await Promise.all(docker.map(async (k) => [k, await sourceData(k)] as const)));
      const dockerSource = (key: string) => {
        const source = sources.get(key);
        return source?.type === SECRET_TYPE_DOCKER_CONFIG_JSON ? source : undefined;
      };
      return shared(placeholderCandidates(reaching, dockerSource, namespace, parsedSource));
    },

    /** Entries held, per internal map (for tests that prove nothing is left behind). */
    sizes: () => ({
      placeholdersByNamespace: placeholdersByNamespace.size,
      wrongTypeByNamespace: wrongTypeByNamespace.size,
      importsBySource: importsBySource.size,
      importsByNamespace: importsByNamespace.size,
      importUids: importUids.size,
      fetchedSources: fetchedSources.size,
      reads: reads.size,
      parsedSources: parsedSources.size,
      candidateLists: candidateLists.size,
    }),

    synced: () => informers.every((i) => i.synced()),
    healthy: () => informers.every((i) => i.healthy()),
    // Exports first: the Secret metadata view keeps exported sources, so it must know the exports.
    async start() {
      await Promise.all([
        namespaces.start(),
        exports.start(),
        imports.start(),
        ...(more?.informers ?? []).map((i) => i.start()),
      ]);
      await Promise.all([dockerSecrets.start(), secretMetadata.start(), copies.start()]);
    },
    stop: () => informers.forEach((i) => i.stop()),
  };
}
