// The benchmark's own API client: one undici Agent with the kubeconfig's certificates, loaded once, and
// nothing else between a request and the wire. It is the "minimal client" of the limit scenario and
// also drives setup and the watches that observe the controller (through src/runtime/informer.ts).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { KubeConfig } from "@kubernetes/client-node";
import { Agent, request } from "undici";
import { ApiError, type KubeHttp, type RequestOptions, type WatchEvent } from "../src/runtime/kube-http.ts";

export interface BenchClient extends KubeHttp {
  close(): Promise<void>;
}

export function benchClient(kubeconfigPath: string): BenchClient {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user) throw new Error(`${kubeconfigPath}: no current cluster or user`);
  const read = (file: string | undefined, data: string | undefined) =>
    file ? readFileSync(file) : data ? Buffer.from(data, "base64") : undefined;
  const dispatcher = new Agent({
    connect: {
      ca: read(cluster.caFile, cluster.caData),
      cert: read(user.certFile, user.certData),
      key: read(user.keyFile, user.keyData),
    },
    keepAliveTimeout: 60_000,
  });
  const server = cluster.server;

  async function send(path: string, options: RequestOptions, watching: boolean) {
    const method = options.method ?? "GET";
    const url = new URL(server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    if (watching) url.searchParams.set("watch", "true");
    const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
    if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    const response = await request(url, {
      method,
      headers,
      dispatcher,
      signal: options.signal,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (response.statusCode >= 300) {
      const status = (await response.body.json().catch(() => ({}))) as { reason?: string; message?: string };
      throw new ApiError(response.statusCode, method, path, status.reason, status.message);
    }
    return response;
  }

  return {
    async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
      const response = await send(path, options, false);
      return (await response.body.json()) as T;
    },
    async watch(path, options, onEvent) {
      const response = await send(path, options, true);
      const lines = createInterface({ input: response.body, crlfDelay: Infinity });
      for await (const line of lines) {
        if (line.trim() !== "") onEvent(JSON.parse(line) as WatchEvent);
      }
    },
    close: () => dispatcher.close(),
  };
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
