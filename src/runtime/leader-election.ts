// Leader election on a coordination.k8s.io Lease, with client-go's semantics: a holder whose
// renewTime is older than the lease duration (as observed on our own clock) may be replaced; the
// leader renews every retry period and gives up when it could not renew within the renew deadline;
// on shutdown it releases the lease so a standby takes over at once.
import type { Logger } from "pino";
import { type KubeHttp, statusOf } from "./kube-http.ts";

export interface LeaderElectionOptions {
  http: KubeHttp;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  onLeadershipChange?(leading: boolean): void;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElector {
  /** Resolves once this process holds the lease (never, if stop() comes first). */
  acquired(): Promise<void>;
  /** Resolves if leadership is lost after it was held: the caller must stop writing. */
  lost(): Promise<void>;
  /** Stops campaigning or renewing and releases the lease if held. */
  stop(): Promise<void>;
}

/** MicroTime as the API server parses it: exactly six fractional digits. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export function leaderElector(options: LeaderElectionOptions): LeaderElector {
  const { http, namespace, name, identity, log } = options;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  /** The last lease seen, and when (our clock) its holder or renewTime last changed. */
  let observed: { lease: Lease; at: number } | undefined;
  let lastRenewal = 0;
  const acquired = Promise.withResolvers<undefined>();
  const lost = Promise.withResolvers<undefined>();

  const leaseBody = (now: number, previous: Lease | undefined): Lease => {
    const sameHolder = previous?.spec.holderIdentity === identity;
    return {
      metadata: { name, namespace, resourceVersion: previous?.metadata.resourceVersion },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
        acquireTime: sameHolder ? previous?.spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (previous?.spec.leaseTransitions ?? 0) + (previous && !sameHolder ? 1 : 0),
      },
    };
  };

  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const current = await http.request<Lease>(`${path}/${name}`).catch((err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    });
    if (current === undefined) {
      const created = await http.request<Lease>(path, { method: "POST", body: leaseBody(now, undefined) });
      observed = { lease: created, at: now };
      return true;
    }
    if (
      observed === undefined ||
      observed.lease.spec.holderIdentity !== current.spec.holderIdentity ||
      observed.lease.spec.renewTime !== current.spec.renewTime
    ) {
      observed = { lease: current, at: now };
    }
    const holder = current.spec.holderIdentity ?? "";
    const expired = observed.at + (current.spec.leaseDurationSeconds ?? 0) * 1000 <= now;
    if (holder !== "" && holder !== identity && !expired) return false;
    const updated = await http.request<Lease>(`${path}/${name}`, {
      method: "PUT",
      body: leaseBody(now, current),
    });
    observed = { lease: updated, at: now };
    return true;
  }

  async function tick() {
    if (stopped) return;
    let held = false;
    try {
      held = await tryAcquireOrRenew();
    } catch (err) {
      if (statusOf(err) !== 409) log.warn({ err }, "leader election: could not reach the lease");
    }
    if (stopped) return;
    const now = Date.now();
    if (held) {
      lastRenewal = now;
      if (!leading) {
        leading = true;
        log.info({ lease: `${namespace}/${name}`, identity }, "leader election: became leader");
        options.onLeadershipChange?.(true);
        acquired.resolve(undefined);
      }
    } else if (leading && now - lastRenewal > options.renewDeadlineMs) {
      leading = false;
      log.error({ lease: `${namespace}/${name}` }, "leader election: lost the lease");
      options.onLeadershipChange?.(false);
      lost.resolve(undefined);
      return;
    }
    timer = setTimeout(() => (inFlight = tick()), options.retryPeriodMs);
  }

  inFlight = tick();

  return {
    acquired: () => acquired.promise,
    lost: () => lost.promise,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight; // a renewal racing with the release would take the lease back
      if (!leading || observed === undefined) return;
      leading = false;
      options.onLeadershipChange?.(false);
      const now = Date.now();
      const released = leaseBody(now, observed.lease);
      released.spec = { ...released.spec, holderIdentity: "", leaseDurationSeconds: 1 };
      await http
        .request(`${path}/${name}`, { method: "PUT", body: released })
        .then(() => log.info("leader election: released the lease"))
        .catch((err: unknown) => log.warn({ err }, "leader election: could not release the lease"));
    },
  };
}
