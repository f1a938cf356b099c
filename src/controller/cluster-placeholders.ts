// ClusterPlaceholders (SPEC §10): their caches, the keys a change can affect, and two reconciles.
// A provision key `<name>/<namespace>` keeps or withdraws one ClusterPlaceholder's placeholder and
// ServiceAccount entries in one namespace; a status key `<name>` reports over all namespaces. The
// placeholders it creates are then filled by the placeholder reconcile like any other.
import {
  CLUSTER_PLACEHOLDER_KIND,
  CLUSTER_PLACEHOLDER_PLURAL,
  CONDITION_READY,
  LABEL_CLUSTER_PLACEHOLDER,
  OWN_API_VERSION,
} from "../constants.ts";
import {
  type CompiledClusterPlaceholder,
  decideProvision,
  matchNamespace,
  type ProvisionAction,
  type SecretAtName,
  type Service,
  secretExists,
} from "../core/cluster-placeholder.ts";
import { clusterPlaceholderStatus, transitionEvent } from "../core/cluster-placeholder-status.ts";
import { statusChanged } from "../core/conditions.ts";
import { recordsOwner, serviceAccountPatch, type ServiceAccountView } from "../core/service-account.ts";
import { type Informer, informer } from "../runtime/informer.ts";
import { type KubeHttp, statusOf } from "../runtime/kube-http.ts";
import type { Result } from "../runtime/work-queue.ts";
import { splitKey } from "../core/keys.ts";
import { type Context, MERGE_PATCH, type Queues } from "./context.ts";
import type { ClusterState } from "./state.ts";
import {
  type ClusterPlaceholderEntry,
  clusterPlaceholderEntry,
  createdSecretView,
  serviceAccountView,
} from "../views/cluster-placeholders.ts";
import { isPlaceholder } from "../views/views.ts";

/** Status is written at most this often while namespaces are being provisioned. */
const STATUS_DELAY_MS = 1_000;
/** A provision waiting for its pod watch to list looks again after this long. */
const POD_WATCH_WAIT_MS = 250;

export interface ClusterPlaceholderOptions {
  http: KubeHttp;
  state: () => ClusterState;
  /** Undefined until reconciling starts: changes before that are not queued. */
  queues: () => Queues | undefined;
  onError(name: string, err: unknown, attempt: number): void;
  /** Counts placeholders created and deleted (metrics). */
  onProvisioned?(action: "created" | "deleted"): void;
}

/** One watch of pod metadata per distinct withPods selector, sent to the API server. */
interface PodWatch {
  informer: Informer<string>;
  /** Matching pods per namespace. */
  counts: Map<string, number>;
}

export type ClusterPlaceholders = ReturnType<typeof createClusterPlaceholders>;

export function createClusterPlaceholders(options: ClusterPlaceholderOptions) {
  const { http } = options;
  const createdByNamespace = new Map<string, Set<string>>();
  const accountsByNamespace = new Map<string, Set<string>>();
  const podWatches = new Map<string, PodWatch>();
  /** Per ClusterPlaceholder, per matching namespace: served or why not, as the last provision found. */
  const services = new Map<string, Map<string, NonNullable<Service>>>();
  let started = false;

  const entries = informer(http, {
    name: CLUSTER_PLACEHOLDER_PLURAL,
    path: `/apis/${OWN_API_VERSION}/${CLUSTER_PLACEHOLDER_PLURAL}`,
    view: clusterPlaceholderEntry,
    onChange: (name, previous, next) => {
      if (started) syncPodWatches();
      const queues = options.queues();
      if (!queues) return;
      // Its own status writes come back here too: those leave the debounced status alone.
      if (previous?.placement === next?.placement && previous?.generation === next?.generation) return;
      queues.clusterPlaceholders.add(name);
      provisionEverywhere(queues, name);
    },
    onError: (err, attempt) => options.onError(CLUSTER_PLACEHOLDER_PLURAL, err, attempt),
  });
  const created = informer(http, {
    name: "cluster-placeholder-secrets",
    path: "/api/v1/secrets",
    labelSelector: LABEL_CLUSTER_PLACEHOLDER,
    metadataOnly: true,
    view: createdSecretView,
    onChange: (key, previous, next) => {
      index(createdByNamespace, key, next !== undefined);
      const [namespace] = splitKey(key);
      for (const owner of new Set([previous?.createdBy, next?.createdBy])) {
        if (owner !== undefined) options.queues()?.provisions.add(`${owner}/${namespace}`);
      }
    },
    onError: (err, attempt) => options.onError("cluster-placeholder-secrets", err, attempt),
  });
  const accounts = informer(http, {
    name: "serviceaccounts",
    path: "/api/v1/serviceaccounts",
    view: serviceAccountView,
    onChange: (key, previous, next) => {
      index(accountsByNamespace, key, next !== undefined);
      const queues = options.queues();
      const account = next ?? previous;
      if (!queues || account === undefined) return;
      for (const entry of entries.values()) {
        const named = compiledOf(entry)?.serviceAccounts.includes(account.name) === true;
        if (named || [previous, next].some((sa) => sa && recordsOwner(sa, entry.name))) {
          queues.provisions.add(`${entry.name}/${account.namespace}`);
        }
      }
    },
    onError: (err, attempt) => options.onError("serviceaccounts", err, attempt),
  });

  function index(byNamespace: Map<string, Set<string>>, key: string, present: boolean) {
    const [namespace] = splitKey(key);
    const keys = byNamespace.get(namespace) ?? new Set<string>();
    if (present) keys.add(key);
    else keys.delete(key);
    if (keys.size > 0) byNamespace.set(namespace, keys);
    else byNamespace.delete(namespace);
  }

  /** Every namespace where the ClusterPlaceholder may keep or have left something. */
  function provisionEverywhere(queues: Queues, name: string) {
    const namespaces = new Set([...options.state().namespaces.values()].map((ns) => ns.name));
    for (const secret of created.values()) if (secret.createdBy === name) namespaces.add(secret.namespace);
    for (const sa of accounts.values()) if (recordsOwner(sa, name)) namespaces.add(sa.namespace);
    for (const namespace of namespaces) queues.provisions.add(`${name}/${namespace}`);
  }

  /** Starts the pod watches selectors now need and stops those no ClusterPlaceholder uses. */
  function syncPodWatches() {
    const wanted = new Set<string>();
    for (const entry of entries.values()) {
      const selector = compiledOf(entry)?.withPods?.description;
      if (selector !== undefined) wanted.add(selector);
    }
    for (const [selector, watch] of podWatches) {
      if (wanted.has(selector)) continue;
      watch.informer.stop();
      podWatches.delete(selector);
    }
    for (const selector of wanted)
      if (!podWatches.has(selector)) podWatches.set(selector, podWatch(selector));
  }

  function podWatch(selector: string): PodWatch {
    const counts = new Map<string, number>();
    const watch = informer(http, {
      name: `pods(${selector || "all"})`,
      path: "/api/v1/pods",
      labelSelector: selector,
      metadataOnly: true,
      view: (o) => o.metadata?.namespace,
      onChange: (_key, previous, next) => {
        const namespace = next ?? previous;
        if (namespace === undefined || (previous !== undefined && next !== undefined)) return;
        const count = (counts.get(namespace) ?? 0) + (next === undefined ? -1 : 1);
        if (count > 0) counts.set(namespace, count);
        else counts.delete(namespace);
        // Only the first pod arriving and the last one leaving change whether the namespace matches.
        if (count > 1 || (count === 1 && next === undefined)) return;
        const queues = options.queues();
        for (const entry of entries.values()) {
          if (compiledOf(entry)?.withPods?.description === selector) {
            queues?.provisions.add(`${entry.name}/${namespace}`);
          }
        }
      },
      onError: (err, attempt) => options.onError("pods", err, attempt),
    });
    void watch.start();
    return { informer: watch, counts };
  }

  const matchingPods = (compiled: CompiledClusterPlaceholder, namespace: string) => {
    const selector = compiled.withPods?.description;
    return selector === undefined ? 0 : (podWatches.get(selector)?.counts.get(namespace) ?? 0);
  };
  const podsListed = (compiled: CompiledClusterPlaceholder) => {
    const selector = compiled.withPods?.description;
    return selector === undefined || podWatches.get(selector)?.informer.synced() === true;
  };

  /** Keeps or withdraws one ClusterPlaceholder's placeholder and ServiceAccount entries in one namespace. */
  async function reconcileProvision(ctx: Context, key: string): Promise<Result> {
    const [name, namespaceName] = splitKey(key);
    const entry = entries.get(name);
    // An invalid spec withdraws nothing: bad input never removes a placeholder (status says why).
    if (entry !== undefined && !entry.compiled.ok) return {};
    const compiled = entry?.compiled.ok ? entry.compiled.compiled : undefined;
    if (compiled !== undefined && !podsListed(compiled)) return { requeueAfterMs: POD_WATCH_WAIT_MS };
    const namespace = ctx.state.namespaces.get(namespaceName);
    const wanted =
      compiled !== undefined &&
      namespace !== undefined &&
      matchNamespace(compiled, namespace, matchingPods(compiled, namespaceName)).matches;
    const secretName = compiled?.secretName;
    const { actions, service } = decideProvision({
      owner: { name, uid: entry?.uid ?? "" },
      secretName,
      namespace: namespaceName,
      wanted,
      atName: secretName === undefined ? undefined : secretAt(ctx, `${namespaceName}/${secretName}`),
      created: createdIn(namespaceName),
    });
    let outcome = service;
    for (const action of actions) outcome = (await perform(ctx, namespaceName, action)) ?? outcome;
    recordService(name, namespaceName, outcome);
    if (namespace !== undefined && !namespace.terminating) {
      const onAccounts = outcome?.served === true ? secretName : undefined;
      await patchAccounts(ctx, name, namespaceName, onAccounts, compiled?.serviceAccounts ?? []);
    }
    return {};
  }

  /** The Secret at that name as the caches know it; one not cached is found by the create's 409. */
  function secretAt(ctx: Context, key: string): SecretAtName | undefined {
    const ours = created.get(key);
    if (ours !== undefined) return ours;
    const [, name] = splitKey(key);
    const docker = ctx.state.dockerSecrets.get(key);
    if (docker !== undefined) {
      const placeholder = isPlaceholder(docker.annotations);
      return { name, uid: "", resourceVersion: docker.resourceVersion, createdBy: undefined, placeholder };
    }
    const other = ctx.state.secretMetadata.get(key);
    if (other === undefined) return undefined;
    const { uid, resourceVersion, placeholder } = other;
    return { name, uid, resourceVersion, createdBy: undefined, placeholder };
  }

  const createdIn = (namespace: string): SecretAtName[] =>
    [...(createdByNamespace.get(namespace) ?? [])].flatMap((key) => created.get(key) ?? []);

  /** Writes one action; for a create refused because a Secret is there, how that Secret serves. */
  async function perform(
    ctx: Context,
    namespace: string,
    action: ProvisionAction,
  ): Promise<Service | undefined> {
    const collection = `/api/v1/namespaces/${namespace}/secrets`;
    if (action.kind === "create") {
      try {
        await ctx.write(collection, { method: "POST", body: action.secret });
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
        return existingService(ctx, namespace, String((action.secret.metadata as { name: string }).name));
      }
      options.onProvisioned?.("created");
      ctx.writes.count("provisioned placeholder");
      ctx.log.debug({ namespace }, "placeholder created");
      return undefined;
    }
    const { uid, resourceVersion } = action;
    try {
      await ctx.write(`${collection}/${action.name}`, {
        method: "DELETE",
        body: { preconditions: { uid, resourceVersion } },
      });
    } catch (err) {
      // Gone already, or changed since it was read: its watch event brings the key back.
      if (statusOf(err) === 404 || statusOf(err) === 409) return undefined;
      throw err;
    }
    options.onProvisioned?.("deleted");
    ctx.writes.count("withdrawn placeholder");
    ctx.log.debug({ namespace, secret: action.name }, "placeholder withdrawn");
    return undefined;
  }

  async function existingService(ctx: Context, namespace: string, name: string): Promise<Service> {
    const found = await ctx.state.readSecret(`${namespace}/${name}`);
    const annotations = (found?.metadata as { annotations?: Record<string, string> } | undefined)
      ?.annotations;
    return found === undefined || isPlaceholder(annotations) ? { served: true } : secretExists(name);
  }

  function recordService(name: string, namespace: string, service: Service) {
    const byNamespace = services.get(name) ?? new Map<string, NonNullable<Service>>();
    const before = JSON.stringify(byNamespace.get(namespace));
    if (service === undefined) byNamespace.delete(namespace);
    else byNamespace.set(namespace, service);
    if (byNamespace.size > 0) services.set(name, byNamespace);
    else services.delete(name);
    if (before !== JSON.stringify(service))
      options.queues()?.clusterPlaceholders.addAfter(name, STATUS_DELAY_MS);
  }

  async function patchAccounts(
    ctx: Context,
    owner: string,
    namespace: string,
    secretName: string | undefined,
    named: readonly string[],
  ) {
    for (const key of accountsByNamespace.get(namespace) ?? []) {
      const account = accounts.get(key);
      if (account === undefined) continue;
      const patch = serviceAccountPatch(
        account,
        owner,
        named.includes(account.name) ? secretName : undefined,
      );
      if (patch === undefined) continue;
      const path = `/api/v1/namespaces/${namespace}/serviceaccounts/${account.name}`;
      // 409: changed since the cache saw it; retried with backoff once the cache has the new version.
      await ctx
        .write(path, { method: "PATCH", body: patch, contentType: MERGE_PATCH })
        .catch((err: unknown) => {
          if (statusOf(err) !== 404) throw err;
        });
      ctx.writes.count("serviceaccount");
      ctx.log.debug({ namespace, serviceAccount: account.name, secretName }, "imagePullSecrets updated");
    }
  }

  /** Writes a ClusterPlaceholder's status when it changed, with an Event when Ready's reason did. */
  async function reconcileStatus(ctx: Context, name: string): Promise<Result> {
    const entry = entries.get(name);
    if (entry === undefined) {
      ctx.rewrites.forget(name);
      return {};
    }
    const { status, outcome } = clusterPlaceholderStatus({
      generation: entry.generation,
      problems: entry.compiled.ok ? undefined : entry.compiled.problems,
      services: services.get(name) ?? new Map(),
      previous: entry.status.conditions ?? [],
      now: ctx.now(),
    });
    if (!statusChanged(entry.status, status)) return {};
    const body = { status };
    const content = JSON.stringify(body);
    const wait = ctx.rewrites.delay(name, content);
    if (wait > 0) return { requeueAfterMs: wait };
    const path = `/apis/${OWN_API_VERSION}/${CLUSTER_PLACEHOLDER_PLURAL}/${name}/status`;
    await ctx.write(path, { method: "PATCH", body, contentType: MERGE_PATCH });
    ctx.rewrites.wrote(name, content);
    const before = entry.status.conditions?.find((c) => c.type === CONDITION_READY)?.reason;
    const event = transitionEvent(before, outcome);
    if (event !== undefined) {
      const involved = {
        apiVersion: OWN_API_VERSION,
        kind: CLUSTER_PLACEHOLDER_KIND,
        namespace: "",
        name,
        uid: entry.uid,
      };
      await ctx.events.emit(involved, event.type, event.reason, event.message);
    }
    return {};
  }

  const compiledOf = (entry: ClusterPlaceholderEntry) =>
    entry.compiled.ok ? entry.compiled.compiled : undefined;

  const informers = () => [entries, created, accounts, ...[...podWatches.values()].map((w) => w.informer)];

  return {
    entries,
    reconcileProvision,
    reconcileStatus,
    /** A namespace changed: every ClusterPlaceholder looks at it again (decisions read only caches). */
    namespaceChanged(queues: Queues, namespace: string) {
      for (const entry of entries.values()) queues.provisions.add(`${entry.name}/${namespace}`);
    },
    /** A Secret changed: the ClusterPlaceholders using its name look at its namespace again. */
    secretChanged(queues: Queues, key: string) {
      const [namespace, name] = splitKey(key);
      for (const entry of entries.values()) {
        if (compiledOf(entry)?.secretName === name) queues.provisions.add(`${entry.name}/${namespace}`);
      }
    },
    enqueueAll(queues: Queues) {
      for (const entry of entries.values()) {
        queues.clusterPlaceholders.add(entry.name);
        provisionEverywhere(queues, entry.name);
      }
    },
    /** The ClusterPlaceholders first (they say which pod watches to start), then the rest. */
    async start() {
      await entries.start();
      started = true;
      syncPodWatches();
      await Promise.all([created.start(), accounts.start(), ...[...podWatches.values()].map(waitListed)]);
    },
    synced: () => informers().every((i) => i.synced()),
    healthy: () => informers().every((i) => i.healthy()),
    stop: () => informers().forEach((i) => i.stop()),
    /** For explain and tests: the matching pods a ClusterPlaceholder's watch sees in a namespace. */
    matchingPods,
    accountsIn: (namespace: string): ServiceAccountView[] =>
      [...(accountsByNamespace.get(namespace) ?? [])].flatMap((key) => accounts.get(key) ?? []),
  };
}

/** Resolves once the watch has listed (it was started when created). */
function waitListed(watch: PodWatch): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (watch.informer.synced() ? resolve() : setTimeout(check, 50));
    check();
  });
}
