// Leader election on a coordination.k8s.io Lease, with client-go's semantics: a holder whose
// renewTime is older than the lease duration (as observed on our own monotonic clock) may be
// replaced; the leader renews every retry period, each attempt bounded by the renew deadline, and
// stops leading the moment it has not renewed within the renew deadline (a timer, and leading() for
// the write path, so a process frozen and resumed never writes on); on shutdown it releases the lease
// so a standby takes over at once.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { getOrUndefined, type KubeHttp, statusOf } from "./kube-http.ts";
import { type Clock, realClock } from "./work-queue.ts";

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
  clock?: Clock;
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
  /** Whether this process holds the lease now: renewed within the renew deadline, on the monotonic clock. */
  leading(): boolean;
  /** Stops campaigning or renewing and releases the lease if held. */
  stop(): Promise<void>;
}

/** The pod name and a random suffix: two processes with one name never both believe they lead. */
export const leaderIdentity = (podName: string): string => `${podName}_${randomUUID()}`;

/** MicroTime as the API server parses it: exactly six fractional digits. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export function leaderElector(options: LeaderElectionOptions): LeaderElector {
  const { http, namespace, name, identity, log, renewDeadlineMs } = options;
  const clock = options.clock ?? realClock;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  let leading = false;
  let stopped = false;
  let timer: unknown;
  let watchdog: unknown;
  let inFlight: Promise<void> = Promise.resolve();
  const stopping = new AbortController();
  /** The last lease seen, and when (monotonic clock) its holder or renewTime last changed. */
  let observed: { lease: Lease; at: number } | undefined;
  /** When (monotonic clock) the last successful attempt started. */
  let renewedAt = 0;
  const acquired = Promise.withResolvers<undefined>();
  const lost = Promise.withResolvers<undefined>();
  const stillLeading = () => leading && clock.now() - renewedAt < renewDeadlineMs;

  const leaseBody = (previous: Lease | undefined): Lease => {
    const now = Date.now(); // the Lease's times are wall-clock times; only our decisions are monotonic
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

  async function tryAcquireOrRenew(now: number, signal: AbortSignal): Promise<boolean> {
    const current = await getOrUndefined<Lease>(http, `${path}/${name}`, { signal });
    if (current === undefined) {
      const body = leaseBody(undefined);
      const created = await http.request<Lease>(path, { method: "POST", body, signal });
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
    const body = leaseBody(current);
    const updated = await http.request<Lease>(`${path}/${name}`, { method: "PUT", body, signal });
    observed = { lease: updated, at: now };
    return true;
  }

  /** One attempt, bounded by the renew deadline (while leading: by what is left of it). */
  async function attempt(start: number): Promise<boolean> {
    const budget = leading ? renewedAt + renewDeadlineMs - start : renewDeadlineMs;
    const deadline = new AbortController();
    const expire = clock.setTimeout(() => deadline.abort(), budget);
    try {
      return await tryAcquireOrRenew(start, AbortSignal.any([deadline.signal, stopping.signal]));
    } catch (err) {
      if (statusOf(err) !== 409 && !stopped) log.warn({ err }, "leader election: could not reach the lease");
      return false;
    } finally {
      clock.clearTimeout(expire);
    }
  }

  async function tick() {
    if (stopped) return;
    const start = clock.now();
    const held = await attempt(start);
    if (stopped) return;
    if (leading && !stillLeading()) return giveUp();
    if (held) {
      renewedAt = start;
      clock.clearTimeout(watchdog);
      watchdog = clock.setTimeout(giveUp, renewDeadlineMs - (clock.now() - start));
      if (!leading) {
        leading = true;
        log.info({ lease: `${namespace}/${name}`, identity }, "leader election: became leader");
        options.onLeadershipChange?.(true);
        acquired.resolve(undefined);
      }
    }
    timer = clock.setTimeout(() => (inFlight = tick()), options.retryPeriodMs);
  }

  /** Not renewed within the renew deadline: a standby may take over after the lease duration, so stop now. */
  function giveUp() {
    if (!leading || stopped) return;
    leading = false;
    stopped = true;
    clock.clearTimeout(timer);
    stopping.abort();
    log.error(
      { lease: `${namespace}/${name}`, renewDeadlineMs },
      "leader election: not renewed within the renew deadline; lost the lease, no more writes",
    );
    options.onLeadershipChange?.(false);
    lost.resolve(undefined);
  }

  inFlight = tick();

  return {
    acquired: () => acquired.promise,
    lost: () => lost.promise,
    leading: stillLeading,
    async stop() {
      const held = stillLeading();
      stopped = true;
      clock.clearTimeout(timer);
      clock.clearTimeout(watchdog);
      await inFlight; // bounded by the renew deadline; a renewal racing with the release would take the lease back
      if (!held || observed === undefined) return;
      leading = false;
      options.onLeadershipChange?.(false);
      const released = leaseBody(observed.lease);
      released.spec = { ...released.spec, holderIdentity: "", leaseDurationSeconds: 1 };
      await http
        .request(`${path}/${name}`, { method: "PUT", body: released, timeoutMs: renewDeadlineMs })
        .then(() => log.info("leader election: released the lease"))
        .catch((err: unknown) => log.warn({ err }, "leader election: could not release the lease"));
    },
  };
}
