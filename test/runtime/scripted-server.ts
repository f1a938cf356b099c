// A scripted API server on 127.0.0.1 for the runtime tests: each request is recorded and answered by
// the test's script, so a test can play what a real API server does only under faults (watches that
// break, end at once or never answer, expired continue tokens, requests that hang).
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeHttp, type KubeHttp } from "../../src/runtime/kube-http.ts";

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  watch: boolean;
  /** Requests of this kind (watch or not) so far, this one included. */
  call: number;
  body: string;
}

export type Script = (request: Recorded, res: ServerResponse) => void;

export interface ScriptedServer {
  http: KubeHttp;
  kubeConfig: KubeConfig;
  requests: Recorded[];
  watches(): Recorded[];
  lists(): Recorded[];
  /** Responses not yet finished (open watches, hanging requests). */
  open(): number;
  close(): void;
}

export async function scriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: Recorded[] = [];
  let open = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const watch = url.searchParams.get("watch") === "true";
      const call = requests.filter((r) => r.watch === watch).length + 1;
      const recorded = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        watch,
        call,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(recorded);
      open++;
      res.on("close", () => open--);
      script(recorded, res);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: "local",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "anonymous" }],
    contexts: [{ name: "local", cluster: "local", user: "anonymous" }],
    currentContext: "local",
  });
  return {
    http: kubeHttp(kubeConfig),
    kubeConfig,
    requests,
    watches: () => requests.filter((r) => r.watch),
    lists: () => requests.filter((r) => !r.watch && r.method === "GET"),
    open: () => open,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

export const watchEvent = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

/** Accepts a watch as the API server does: the headers go out at once, events may follow. */
export const openWatch = (res: ServerResponse) =>
  res.writeHead(200, { "content-type": "application/json" }).flushHeaders();

export function answer(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

export const list = (resourceVersion: string, items: unknown[] = [], continueToken?: string) => ({
  items,
  metadata: { resourceVersion, continue: continueToken },
});

export const status = (code: number, reason: string, message = reason) => ({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  code,
  reason,
  message,
});

/** Polls a condition in real time (the server's answers arrive in real time even with a fake clock). */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
