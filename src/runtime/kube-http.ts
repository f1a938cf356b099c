// Raw JSON requests to the API server with the kubeconfig's credentials. Objects come back exactly
// as the server sent them (no typed-model conversion), one connection pool is reused for every
// request (client-node makes a new one per call), and every request is counted for metrics.
import type { KubeConfig } from "@kubernetes/client-node";
import { createInterface } from "node:readline";
import { request } from "undici";
import { type KubeAccess, kubeConfigAccess } from "./kube-access.ts";

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /** The deadline of the whole request, body included; the client's request timeout unless given. Watches have none. */
  timeoutMs?: number;
}

/** The default deadline of a read or write, about client-go's: a hung API server or proxy never holds a worker longer. */
export const REQUEST_TIMEOUT_MS = 30_000;

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

/** How much of the server's message an ApiError keeps: an admission webhook may echo the object. */
const SERVER_MESSAGE_CHARS = 200;

/** An API error with the HTTP status and the server's Status reason, never the request body. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  /** The server's Status message. */
  readonly serverMessage: string | undefined;
  /** The server's Retry-After, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  constructor(
    status: number,
    method: string,
    path: string,
    reason?: string,
    message?: string,
    retryAfterMs?: number,
  ) {
    const shown =
      message && message.length > SERVER_MESSAGE_CHARS
        ? `${message.slice(0, SERVER_MESSAGE_CHARS)}...`
        : message;
    super(`${method} ${path}: ${status}${reason ? ` ${reason}` : ""}${shown ? `: ${shown}` : ""}`);
    this.status = status;
    this.reason = reason;
    this.serverMessage = message;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A request that got no (complete) answer within its deadline. */
export class RequestTimeout extends Error {
  constructor(method: string, path: string, ms: number) {
    super(`${method} ${path}: no answer within ${ms} ms`);
  }
}

export const statusOf = (err: unknown): number | undefined =>
  err instanceof ApiError ? err.status : undefined;

/** A GET of something that may not exist: undefined on 404; any other failure still throws. */
export async function getOrUndefined<T = KubeObject>(
  http: KubeHttp,
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<T | undefined> {
  try {
    return await http.request<T>(path, options);
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export type RequestObserver = (method: string, status: number | "error") => void;

/** A client for the API server of `source`: a KubeAccess, or client-node's KubeConfig (tests use it). */
export function kubeHttp(
  source: KubeAccess | KubeConfig,
  observe: RequestObserver = () => {},
  requestTimeoutMs = REQUEST_TIMEOUT_MS,
): KubeHttp {
  let access: Promise<KubeAccess> | undefined;
  if ("authorize" in source) access = Promise.resolve(source);
  else if (!source.getCurrentCluster()?.server) throw new Error("the kubeconfig has no current cluster");

  async function send(
    path: string,
    options: RequestOptions,
    signal: AbortSignal | undefined,
    watching: boolean,
  ) {
    const method = options.method ?? "GET";
    const { server, authorize } = await (access ??= kubeConfigAccess(source as KubeConfig));
    const url = new URL(server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    if (watching) url.searchParams.set("watch", "true");
    const { headers: auth, dispatcher } = await authorize();
    const headers: Record<string, string> = { ...auth, accept: options.accept ?? "application/json" };
    if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    let response;
    try {
      response = await request(url, {
        method,
        headers,
        dispatcher,
        signal,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (err) {
      observe(method, "error");
      throw err;
    }
    observe(method, response.statusCode);
    if (response.statusCode < 200 || response.statusCode > 299) {
      const status = (await response.body.json().catch(() => ({}))) as { reason?: string; message?: string };
      const retryAfter = Number(response.headers["retry-after"]);
      const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
      throw new ApiError(response.statusCode, method, path, status.reason, status.message, retryAfterMs);
    }
    return response;
  }

  return {
    async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
      const timeoutMs = options.timeoutMs ?? requestTimeoutMs;
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
      try {
        const response = await send(path, options, signal, false);
        return (await response.body.json()) as T;
      } catch (err) {
        if (deadline.aborted) throw new RequestTimeout(options.method ?? "GET", path, timeoutMs);
        throw err;
      }
    },
    async watch(path, options, onEvent) {
      const response = await send(path, options, options.signal, true);
      const input = response.body;
      const lines = createInterface({ input, crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (line.trim() !== "") onEvent(parseWatchLine(line));
        }
      } finally {
        // When onEvent throws (a 410 Gone ERROR event), the loop stops with the body still open and
        // nobody listening for its errors any more: aborting the request later would error the
        // line reader unhandled and crash the process. So the line reader is closed first, and the
        // abort error undici reports when an unfinished body is closed is swallowed.
        lines.close();
        input.on("error", () => {});
        input.destroy();
      }
    },
  };
}

/** One watch event; a malformed line fails without its text (a JSON error quotes its input). */
function parseWatchLine(line: string): WatchEvent {
  try {
    return JSON.parse(line) as WatchEvent;
  } catch {
    throw new Error(`malformed watch event (${line.length} bytes)`);
  }
}
