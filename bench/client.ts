// The benchmark's API client: the controller's own (src/runtime/kube-http.ts, one undici connection
// pool, nothing between a request and the wire), for the "minimal client" of the limit scenario,
// setup, and the watches that observe the controller (through src/runtime/informer.ts).
import { loadKubeAccess } from "../src/runtime/kube-access.ts";
import { ApiError, type KubeHttp, kubeHttp } from "../src/runtime/kube-http.ts";

export type BenchClient = KubeHttp;

export async function benchClient(kubeconfigPath: string): Promise<BenchClient> {
  return kubeHttp(await loadKubeAccess(kubeconfigPath, {}));
}

/** Transient failures (overload, connection resets) are retried a few times; API errors are not. */
export async function withRetry<T>(what: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await what();
    } catch (err) {
      const status = err instanceof ApiError ? err.status : undefined;
      const transient = status === undefined || status === 429 || status >= 500;
      if (!transient || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}

/** Runs fn over items with at most `concurrency` in flight; the first failure rejects. */
export async function inPool<T>(
  items: Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failed: unknown;
  const lane = async () => {
    for (let next = iterator.next(); !next.done && failed === undefined; next = iterator.next()) {
      try {
        await fn(next.value);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (failed !== undefined) throw failed;
}

export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
