// Raw JSON requests to the API server with the kubeconfig's credentials. Objects come back exactly
// as the server sent them (no typed-model conversion), one connection pool is reused for every
// request (client-node makes a new one per call), and every request is counted for metrics.
import { HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { type Dispatcher, fetch } from "undici";

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject;
}

export interface KubeHttp {
  request<T = unknown>(path: string, options?: RequestOptions): Promise<T>;
  /** Streams watch events until the server ends the watch (resolves) or it fails (rejects). */
  watch(path: string, options: RequestOptions, onEvent: (event: WatchEvent) => void): Promise<void>;
}

/** An API error with the HTTP status and the server's Status reason, never the request body. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, method: string, path: string, reason?: string, message?: string) {
    super(`${method} ${path}: ${status}${reason ? ` ${reason}` : ""}${message ? `: ${message}` : ""}`);
    this.status = status;
    this.reason = reason;
  }
}

export const statusOf = (err: unknown): number | undefined =>
  err instanceof ApiError ? err.status : undefined;

export type RequestObserver = (method: string, status: number | "error") => void;

export function kubeHttp(kc: KubeConfig, observe: RequestObserver = () => {}): KubeHttp {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig has no current cluster");
  let dispatcher: Dispatcher | undefined;

  async function send(path: string, options: RequestOptions, watching: boolean) {
    const method = options.method ?? "GET";
    const url = new URL(server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    if (watching) url.searchParams.set("watch", "true");
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    dispatcher ??= ctx.getDispatcher() as Dispatcher | undefined;
    const headers: Record<string, string> = {
      ...ctx.getHeaders(),
      accept: options.accept ?? "application/json",
    };
    if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        dispatcher,
        signal: options.signal,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (err) {
      observe(method, "error");
      throw err;
    }
    observe(method, response.status);
    if (!response.ok) {
      const status = (await response.json().catch(() => ({}))) as { reason?: string; message?: string };
      throw new ApiError(response.status, method, path, status.reason, status.message);
    }
    return response;
  }

  return {
    async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
      const response = await send(path, options, false);
      return (await response.json()) as T;
    },
    async watch(path, options, onEvent) {
      const response = await send(path, options, true);
      if (!response.body) return;
      const lines = createInterface({ input: Readable.fromWeb(response.body), crlfDelay: Infinity });
      for await (const line of lines) {
        if (line.trim() !== "") onEvent(JSON.parse(line) as WatchEvent);
      }
    },
  };
}
