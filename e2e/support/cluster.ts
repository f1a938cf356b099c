// What e2e tests share: clients for the run's control plane, a namespace per test that is always
// deleted afterwards, ServiceAccount identities, and polling.
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { CoordinationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";

export function adminKubeConfig(): KubeConfig {
  const path = process.env.SEC_E2E_KUBECONFIG;
  if (!path) throw new Error("SEC_E2E_KUBECONFIG is not set: run e2e tests through `npm test`");
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Creates a namespace for this test and deletes it when the test ends. */
export async function testNamespace(
  t: TestContext,
  prefix = "t",
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Promise<string> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, ...metadata } } });
  t.after(() => core.deleteNamespace({ name }).catch(ignoreNotFound));
  return name;
}

/** A kubeconfig acting as ServiceAccount namespace/name, with a token from the TokenRequest API. */
export async function serviceAccountKubeConfig(namespace: string, name: string): Promise<KubeConfig> {
  const admin = adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } })
    .catch(ignoreConflict);
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !request.status?.token) throw new Error("no cluster or token");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: request.status.token }],
    contexts: [{ name, cluster: cluster.name, user: name, namespace }],
    currentContext: name,
  });
  return kc;
}

export const statusCode = (err: unknown): number | undefined =>
  typeof err === "object" && err !== null && "code" in err && typeof err.code === "number"
    ? err.code
    : undefined;

export function ignoreNotFound(err: unknown): undefined {
  if (statusCode(err) !== 404) throw err;
  return undefined;
}

function ignoreConflict(err: unknown): undefined {
  if (statusCode(err) !== 409) throw err;
  return undefined;
}

/** Polls until check() returns a value other than undefined, or fails with the last error seen. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`, { cause: last });
}

/**
 * Reads until the value read passes check(); on timeout the error also shows `seen` of the last
 * value read, so a failure says what was there instead.
 */
export async function readUntil<T, S extends T>(
  what: string,
  read: () => Promise<T>,
  check: (value: T) => value is S,
  seen: (last: T | undefined) => string,
  timeoutMs: number,
): Promise<S>;
export async function readUntil<T>(
  what: string,
  read: () => Promise<T>,
  check: (value: T) => boolean,
  seen: (last: T | undefined) => string,
  timeoutMs: number,
): Promise<T>;
export async function readUntil<T>(
  what: string,
  read: () => Promise<T>,
  check: (value: T) => boolean,
  seen: (last: T | undefined) => string,
  timeoutMs: number,
): Promise<T> {
  let last: T | undefined;
  try {
    return await eventually(
      what,
      async () => {
        const value = await read();
        last = value;
        return check(value) ? value : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${seen(last)}`, { cause: err });
  }
}

/** The pod name of the controller's Lease holder in `namespace`: its identity without the random suffix. */
export async function leaseHolder(namespace: string): Promise<string | undefined> {
  const leases = adminKubeConfig().makeApiClient(CoordinationV1Api);
  const lease = await leases
    .readNamespacedLease({ namespace, name: "secret-export-controller" })
    .catch(() => undefined);
  return lease?.spec?.holderIdentity?.replace(/_[^_]*$/, "") || undefined;
}
