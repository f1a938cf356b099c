// Reconcile of one RegistryCredential (SPEC §9): keeps the Secret of the same name filled with a
// fresh credential from its provider, never touches a Secret it does not own, never empties the
// Secret on a failed refresh, and reports status and transition Events. The decisions are in
// core/registry-credential.ts; this is the shell: reads, the provider call, writes.
import type { RegistryCredentialSpec, RegistryCredentialStatus } from "../api/schemas.ts";
import {
  DOCKER_CONFIG_JSON_KEY,
  OWN_API_VERSION,
  REASON_INVALID_SPEC,
  REASON_PROVIDER_NOT_CONFIGURED,
  REASON_REFRESH_FAILED,
  REASON_SECRET_EXISTS,
  REASON_SECRET_NOT_FOUND,
  REGISTRY_CREDENTIAL_KIND,
  REGISTRY_CREDENTIAL_PLURAL,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../constants.ts";
import { statusChanged } from "../core/conditions.ts";
import {
  type CredentialRecord,
  credentialEvent,
  credentialStatus,
  dockerConfigOf,
  mintedFrom,
  newRecord,
  planMint,
  type Problem,
  type ProviderName,
  providerOf,
  readRecord,
  recordAnnotations,
  refreshAt,
  retryDelay,
  seedOf,
  tuningOf,
} from "../core/registry-credential.ts";
import type { ProviderLoaders } from "../credentials/loaders.ts";
import type {
  CloudEndpoints,
  InputSecret,
  MintedCredential,
  PluginSettings,
} from "../credentials/provider.ts";
import { ProviderError } from "../credentials/provider.ts";
import { informer, type Informer } from "../runtime/informer.ts";
import type { KubeHttp, KubeObject } from "../runtime/kube-http.ts";
import type { Result } from "../runtime/work-queue.ts";
import { type CredentialEntry, credentialEntry } from "../views/registry-credentials.ts";
import { type Context, MERGE_PATCH } from "./context.ts";

export interface CredentialSettings {
  endpoints: CloudEndpoints;
  plugins?: PluginSettings;
  /** The providers' standard environment variables are read from here. */
  env: NodeJS.ProcessEnv;
}

export interface CredentialMetrics {
  refreshed(provider: string, result: "success" | "failure", seconds: number): void;
}

/** A provider call that takes longer is aborted and counts as a failed refresh. */
const MINT_TIMEOUT_MS = 30_000;

/** The RegistryCredential cache, and which credentials a Secret's change concerns. */
export function credentialsCache(
  http: KubeHttp,
  onChange: (key: string) => void,
  onError: (err: unknown, attempt: number) => void,
) {
  const byInput = new Map<string, Set<string>>();
  const index = (key: string, entry: CredentialEntry | undefined, present: boolean) => {
    if (entry?.input === undefined) return;
    const inputKey = `${entry.namespace}/${entry.input}`;
    const keys = byInput.get(inputKey) ?? new Set<string>();
    if (present) keys.add(key);
    else keys.delete(key);
    if (keys.size > 0) byInput.set(inputKey, keys);
    else byInput.delete(inputKey);
  };
  const cache: Informer<CredentialEntry> = informer(http, {
    name: REGISTRY_CREDENTIAL_PLURAL,
    path: `/apis/${OWN_API_VERSION}/${REGISTRY_CREDENTIAL_PLURAL}`,
    view: credentialEntry,
    onChange(key, previous, next) {
      index(key, previous, false);
      index(key, next, true);
      // A status write of its own is no reason to look again.
      if (previous?.generation !== next?.generation || previous?.uid !== next?.uid) onChange(key);
    },
    onError,
  });
  return {
    cache,
    /** The credentials whose output (S/N) or input Secret `secretKey` is. */
    concerning: (secretKey: string): string[] => [
      ...(cache.get(secretKey) ? [secretKey] : []),
      ...(byInput.get(secretKey) ?? []),
    ],
    wantsSecret: (secretKey: string): boolean => cache.get(secretKey) !== undefined || byInput.has(secretKey),
  };
}

export type CredentialsCache = ReturnType<typeof credentialsCache>;

export function credentialReconciler(
  credentials: CredentialsCache,
  settings: CredentialSettings,
  loaders: ProviderLoaders,
  metrics: CredentialMetrics | undefined,
) {
  return async function reconcileCredential(ctx: Context, key: string): Promise<Result> {
    const entry = credentials.cache.get(key);
    // Deleted: the garbage collector deletes the Secret it owns.
    if (entry === undefined) return {};
    const now = Date.now();
    if (!entry.spec.ok) {
      await report(ctx, entry, {
        now,
        provider: undefined,
        record: undefined,
        spec: undefined,
        problem: { reason: REASON_INVALID_SPEC, problems: entry.spec.problems },
      });
      return {};
    }
    const spec = entry.spec.spec;
    const provider = providerOf(spec);
    const target = await ctx.state.readSecret(key);
    if (target !== undefined && !ownedBy(target, entry.uid)) {
      const message = `A Secret ${entry.name} exists in ${entry.namespace} and is not this RegistryCredential's: it is left alone. Delete or rename it, or rename the RegistryCredential`;
      await report(ctx, entry, {
        now,
        provider,
        record: undefined,
        spec,
        problem: { reason: REASON_SECRET_EXISTS, message },
      });
      return {};
    }
    const current = target && filled(target) ? readRecord(annotationsOf(target)) : undefined;
    // Said on the RegistryCredential; the Secret keeps what it holds, and it is looked at again
    // before that expires (or when the input changes).
    const refuse = async (problem: Problem) => {
      await report(ctx, entry, { now, provider, record: current, spec, problem });
      return untilExpiry(current, now);
    };
    const input =
      entry.input === undefined ? undefined : await ctx.state.readSecret(`${entry.namespace}/${entry.input}`);
    if (entry.input !== undefined && input === undefined) {
      const message = `The Secret ${entry.input} named by spec.${provider}.secretRef.name does not exist in ${entry.namespace}: create it there`;
      return refuse({ reason: REASON_SECRET_NOT_FOUND, message });
    }
    const inputVersion = input?.metadata?.resourceVersion;
    const plan = planMint({
      generation: entry.generation,
      uid: entry.uid,
      spec,
      secret: target && { owned: true, filled: filled(target), annotations: annotationsOf(target) },
      inputVersion,
      now,
    });
    if (!plan.mint) {
      await report(ctx, entry, { now, provider, record: plan.record, spec, problem: undefined });
      return plan.refreshAt === undefined ? {} : { requeueAfterMs: plan.refreshAt - now };
    }
    const load = loaders[provider];
    if (load === undefined || (provider === "exec" && settings.plugins === undefined)) {
      const message =
        provider === "exec"
          ? "The exec provider needs the controller's --credential-provider-config and --credential-provider-bin-dir"
          : `The ${provider} provider is not part of this build`;
      return refuse({ reason: REASON_PROVIDER_NOT_CONFIGURED, message });
    }
    const minted = await mint(load, provider, spec, input, now);
    if (minted instanceof ProviderError) {
      ctx.log.info(
        { provider, err: minted.message },
        "credential refresh failed; the Secret keeps its last credential",
      );
      const problem: Problem = { reason: REASON_REFRESH_FAILED, message: minted.message };
      await report(ctx, entry, { now, provider, record: current, spec, problem });
      const failures = (entry.status.consecutiveFailures ?? 0) + 1;
      if (minted.retryable) return { requeueAfterMs: retryDelay(failures, now, current?.expiresAt) };
      return untilExpiry(current, now);
    }
    const record = newRecord(now, minted, mintedFrom(entry.generation, inputVersion));
    await writeSecret(ctx, entry, target, minted, record);
    ctx.log.info(
      { provider, expiresAt: minted.expiresAt, identity: minted.identity },
      "credential refreshed",
    );
    await report(ctx, entry, {
      now,
      provider,
      record,
      spec,
      problem: undefined,
      identity: minted.identity,
      registries: Object.keys(minted.auths),
    });
    const next = refreshAt(record, tuningOf(spec), seedOf(entry.uid, record));
    return next === undefined ? {} : { requeueAfterMs: Math.max(0, next - now) };
  };

  async function mint(
    load: NonNullable<ProviderLoaders[ProviderName]>,
    provider: ProviderName,
    spec: RegistryCredentialSpec,
    input: KubeObject | undefined,
    now: number,
  ): Promise<MintedCredential | ProviderError> {
    const started = performance.now();
    const signal = AbortSignal.timeout(MINT_TIMEOUT_MS);
    try {
      const minted = await (
        await load()
      )(
        spec,
        {
          ...(input ? { secret: inputSecret(input) } : {}),
          env: settings.env,
          endpoints: settings.endpoints,
          signal,
          now: () => new Date(now),
        },
        settings.plugins,
      );
      metrics?.refreshed(provider, "success", (performance.now() - started) / 1000);
      return minted;
    } catch (err) {
      metrics?.refreshed(provider, "failure", (performance.now() - started) / 1000);
      // Only a ProviderError's message is known to be free of secrets; anything else is named by type.
      if (err instanceof ProviderError) return err;
      return new ProviderError(`${provider}: ${signal.aborted ? "timed out" : (err as Error).name}`, true);
    }
  }
}

/** Requeue when the credential expires, so its status turns CredentialExpired on time. */
const untilExpiry = (record: CredentialRecord | undefined, now: number): Result =>
  record?.expiresAt !== undefined && record.expiresAt > now
    ? { requeueAfterMs: record.expiresAt - now + 1000 }
    : {};

interface Report {
  now: number;
  provider: ProviderName | undefined;
  record: CredentialRecord | undefined;
  spec: RegistryCredentialSpec | undefined;
  problem: Problem | undefined;
  identity?: string;
  registries?: string[];
}

/** Writes the status when it changed, and the Event when the Ready reason changed. */
async function report(ctx: Context, entry: CredentialEntry, r: Report) {
  const previous = entry.status;
  const nextRefresh =
    r.record && r.spec && r.problem === undefined
      ? refreshAt(r.record, tuningOf(r.spec), seedOf(entry.uid, r.record))
      : undefined;
  const { status, outcome } = credentialStatus({
    generation: entry.generation,
    provider: r.provider,
    previous,
    now: r.now,
    record: r.record,
    // Unknown after a restart until the next mint: kept from the last status.
    registries: r.registries ?? (r.record ? previous.registries : undefined),
    identity: r.identity ?? (r.record ? previous.identity : undefined),
    nextRefresh,
    problem: r.problem,
    minted: r.identity !== undefined,
  });
  if (!statusChanged(previous, status)) return;
  const path = `/apis/${OWN_API_VERSION}/namespaces/${entry.namespace}/${REGISTRY_CREDENTIAL_PLURAL}/${entry.name}/status`;
  await ctx.write(path, { method: "PATCH", body: { status: withNulls(status) }, contentType: MERGE_PATCH });
  const before = previous.conditions?.find((c) => c.type === "Ready")?.reason;
  const event = credentialEvent(before, outcome);
  if (event) await ctx.events.emit(involved(entry), event.type, event.reason, event.message);
}

const OPTIONAL_FIELDS = [
  "provider",
  "registries",
  "identity",
  "expiresAt",
  "lastRefreshTime",
  "nextRefreshTime",
] as const;

/** A merge patch removes the optional fields the status no longer has. */
const withNulls = (status: RegistryCredentialStatus) => ({
  ...Object.fromEntries(OPTIONAL_FIELDS.map((field) => [field, null])),
  ...status,
});

const involved = (entry: CredentialEntry) => ({
  apiVersion: OWN_API_VERSION,
  kind: REGISTRY_CREDENTIAL_KIND,
  namespace: entry.namespace,
  name: entry.name,
  uid: entry.uid,
});

async function writeSecret(
  ctx: Context,
  entry: CredentialEntry,
  target: KubeObject | undefined,
  minted: MintedCredential,
  record: CredentialRecord,
) {
  const data = { [DOCKER_CONFIG_JSON_KEY]: Buffer.from(dockerConfigOf(minted)).toString("base64") };
  const annotations = recordAnnotations(record);
  const base = `/api/v1/namespaces/${entry.namespace}/secrets`;
  if (target === undefined) {
    const metadata = {
      name: entry.name,
      annotations: Object.fromEntries(Object.entries(annotations).filter(([, v]) => v !== null)),
      ownerReferences: [
        { ...involved(entry), namespace: undefined, controller: true, blockOwnerDeletion: true },
      ],
    };
    await ctx.write(base, { method: "POST", body: { metadata, type: SECRET_TYPE_DOCKER_CONFIG_JSON, data } });
    return;
  }
  // The resourceVersion makes the patch fail if the Secret was replaced since it was read.
  const metadata = { resourceVersion: target.metadata?.resourceVersion, annotations };
  await ctx.write(`${base}/${entry.name}`, {
    method: "PATCH",
    body: { metadata, data },
    contentType: MERGE_PATCH,
  });
}

function ownedBy(secret: KubeObject, uid: string): boolean {
  const owners = (secret.metadata?.ownerReferences ?? []) as { uid?: string; controller?: boolean }[];
  return owners.some((owner) => owner.controller === true && owner.uid === uid);
}

const annotationsOf = (secret: KubeObject): Record<string, string> =>
  (secret.metadata?.annotations ?? {}) as Record<string, string>;

const filled = (secret: KubeObject): boolean =>
  secret.type === SECRET_TYPE_DOCKER_CONFIG_JSON &&
  typeof (secret.data as Record<string, unknown> | undefined)?.[DOCKER_CONFIG_JSON_KEY] === "string";

function inputSecret(secret: KubeObject): InputSecret {
  const data = (secret.data ?? {}) as Record<string, string>;
  return {
    type: typeof secret.type === "string" ? secret.type : "",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64")])),
  };
}
