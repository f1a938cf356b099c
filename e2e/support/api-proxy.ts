// A TLS proxy in front of a test control plane's kube-apiserver, for faults only a network path can
// make: watches ended by the "server", every request answered 429/500/503 for a while, writes accepted
// and never answered. It serves
// with the plane's own serving certificate and forwards with the admin client certificate, so a
// kubeconfig that differs from the admin one only in its server URL talks through it.
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Agent, request } from "undici";

export interface ProxyStats {
  /** Requests received. */
  requests: number;
  /** Requests answered by an injected failure. */
  failed: number;
  /** Watch requests forwarded. */
  watches: number;
  /** Requests received that are not reads (POST, PUT, PATCH, DELETE). */
  writes: number;
  /** 410 Gone seen from the API server: as a response status or as a watch ERROR event. */
  gone: number;
}

/** A write as the proxy received it: the path without the query, when (epoch ms), and whether it hung. */
export interface ProxiedWrite {
  method: string;
  path: string;
  at: number;
  hung: boolean;
}

export interface ApiProxy {
  /** A copy of the plane's admin kubeconfig whose server is this proxy. */
  kubeconfigPath: string;
  stats: ProxyStats;
  /** Every write received, in order. */
  writeLog: ProxiedWrite[];
  /** Ends every open watch cleanly, as the API server does when a watch times out; returns how many. */
  endWatches(): number;
  /** From now until heal(), answers every request with this status (open watches end first). */
  fail(status: 429 | 500 | 503): void;
  /**
   * From now until heal(), writes that `match` (every write by default) are read to the end and never
   * answered; heal() and close() end those still open.
   */
  hangWrites(match?: (write: { method: string; path: string }) => boolean): void;
  /** Hung writes whose client has not given up yet. */
  hanging(): number;
  heal(): void;
  /** From now on, every watch line reaches the client this much later (a lagging watch). */
  delayWatches(ms: number): void;
  /** From now on, watch lines containing `"text"` carry it unquoted: invalid JSON next to `text`. */
  garbleWatchLines(text: string | undefined): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

export async function startApiProxy(plane: {
  server: string;
  dir: string;
  kubeconfigPath: string;
}): Promise<ApiProxy> {
  const file = (name: string) => readFile(join(plane.dir, name));
  const upstream = new Agent({
    connect: { ca: await file("ca.crt"), cert: await file("admin.crt"), key: await file("admin.key") },
  });
  const stats: ProxyStats = { requests: 0, failed: 0, watches: 0, writes: 0, gone: 0 };
  const openWatches = new Set<{ res: ServerResponse; abort: AbortController; ended: boolean }>();
  const writeLog: ProxiedWrite[] = [];
  const hung = new Set<ServerResponse>();
  let hangs: ((write: { method: string; path: string }) => boolean) | undefined;
  let failing: number | undefined;
  let delayMs = 0;
  let garbled: string | undefined;
  const rewrite = (line: string) =>
    garbled !== undefined && line.includes(`"${garbled}"`) ? line.replace(`"${garbled}"`, garbled) : line;

  const server: Server = createServer(
    { cert: await file("apiserver.crt"), key: await file("apiserver.key") },
    (req, res) => void forward(req, res),
  );

  async function forward(req: IncomingMessage, res: ServerResponse) {
    stats.requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "GET" && hold(req, res)) return;
    if (failing !== undefined) {
      stats.failed++;
      return answerFailure(res, failing);
    }
    const watching = /[?&]watch=(true|1)(&|$)/.test(req.url ?? "");
    const watch = { res, abort: new AbortController(), ended: false };
    if (watching) {
      stats.watches++;
      openWatches.add(watch);
    }
    try {
      const response = await request(plane.server + (req.url ?? "/"), {
        method: (req.method ?? "GET") as "GET",
        headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name))),
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        dispatcher: upstream,
        signal: watch.abort.signal,
      });
      if (response.statusCode === 410) stats.gone++;
      res.writeHead(
        response.statusCode,
        Object.fromEntries(Object.entries(response.headers).filter(([name]) => !HOP_BY_HOP.has(name))),
      );
      // As the API server does, a watch's headers go out at once, before any event.
      if (watching) res.flushHeaders();
      // Watches go line by line, each line after the delay in force when it arrived (in order).
      const send = (write: () => void) => (watching && delayMs > 0 ? setTimeout(write, delayMs) : write());
      let partial = "";
      for await (const chunk of response.body) {
        if (watch.ended) break;
        if (!watching) {
          res.write(chunk);
          continue;
        }
        const lines = (partial + (chunk as Buffer).toString()).split("\n");
        partial = lines.pop() ?? "";
        stats.gone += lines.filter((l) => l.startsWith('{"type":"ERROR"') && l.includes('"code":410')).length;
        const text = lines.map((l) => `${rewrite(l)}\n`).join("");
        send(() => void (watch.ended || res.write(text)));
      }
      send(() => void (watch.ended || res.end(partial)));
    } catch {
      if (watch.ended) return;
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    } finally {
      openWatches.delete(watch);
    }
  }

  /** Counts and logs a write; true when it is to hang. */
  function hold(req: IncomingMessage, res: ServerResponse): boolean {
    stats.writes++;
    const write = { method: req.method ?? "", path: new URL(req.url ?? "/", "https://proxy").pathname };
    const hanging = hangs?.(write) === true;
    writeLog.push({ ...write, at: Date.now(), hung: hanging });
    if (!hanging) return false;
    hung.add(res);
    res.on("close", () => hung.delete(res));
    return true;
  }

  function endHung() {
    for (const res of hung) res.destroy();
    hung.clear();
  }

  function endWatches(): number {
    const count = openWatches.size;
    for (const watch of openWatches) {
      watch.ended = true;
      watch.res.end();
      watch.abort.abort();
    }
    openWatches.clear();
    return count;
  }

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = JSON.parse(await readFile(plane.kubeconfigPath, "utf8")) as {
    clusters: { cluster: { server: string } }[];
  };
  for (const { cluster } of kubeconfig.clusters) cluster.server = url;
  const kubeconfigPath = join(plane.dir, `proxy-${(server.address() as AddressInfo).port}.kubeconfig`);
  await writeFile(kubeconfigPath, JSON.stringify(kubeconfig, null, 2));

  return {
    kubeconfigPath,
    stats,
    writeLog,
    endWatches,
    fail(status) {
      failing = status;
      endWatches();
    },
    hangWrites(match = () => true) {
      hangs = match;
    },
    hanging: () => hung.size,
    heal() {
      failing = undefined;
      hangs = undefined;
      endHung();
    },
    delayWatches(ms) {
      delayMs = ms;
    },
    garbleWatchLines(text) {
      garbled = text;
    },
    async close() {
      endWatches();
      endHung();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await upstream.destroy();
    },
  };
}

const REASONS: Record<number, string> = {
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
};

function answerFailure(res: ServerResponse, code: number) {
  const body = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "injected by the test proxy",
    reason: REASONS[code],
    code,
  };
  res
    .writeHead(code, { "content-type": "application/json", ...(code === 429 ? { "retry-after": "1" } : {}) })
    .end(JSON.stringify(body));
}
