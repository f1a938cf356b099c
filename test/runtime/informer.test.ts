// The informer against a scripted local server: what a real API server does only under faults.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { informer } from "../../src/runtime/informer.ts";
import { kubeHttp, type KubeObject } from "../../src/runtime/kube-http.ts";

/** A server for /api/v1/namespaces whose watches are answered by `watch`, one call after another. */
async function scriptedServer(watch: (call: number, res: ServerResponse) => void) {
  let watches = 0;
  const server = createServer((req, res) => {
    if (req.url?.includes("watch=true")) {
      watch(++watches, res);
      return;
    }
    const list = { items: [], metadata: { resourceVersion: "10" } };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(list));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const kc = new KubeConfig();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kc.loadFromOptions({
    clusters: [{ name: "local", server: url, skipTLSVerify: true }],
    users: [{ name: "anonymous" }],
    contexts: [{ name: "local", cluster: "local", user: "anonymous" }],
    currentContext: "local",
  });
  return {
    http: kubeHttp(kc),
    watches: () => watches,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

const event = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
/** Accepts a watch as the API server does: the headers go out at once, events may follow. */
const open = (res: ServerResponse) =>
  res.writeHead(200, { "content-type": "application/json" }).flushHeaders();

async function until(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

test("a 410 Gone on a watch that stays open relists and resumes, and does not crash the process", async (t) => {
  const namespace = (name: string): KubeObject => ({ metadata: { name, resourceVersion: "11" } });
  const server = await scriptedServer((call, res) => {
    // The first watch reports its resourceVersion too old and leaves the stream open, as the API
    // server does; the informer stops reading it and aborts the request.
    open(res);
    if (call === 1) res.write(event("ERROR", { kind: "Status", code: 410, reason: "Expired" }));
    else res.write(event("ADDED", namespace("after-relist")));
  });
  const seen: string[] = [];
  const cache = informer(server.http, {
    name: "namespaces",
    path: "/api/v1/namespaces",
    view: (o) => o.metadata?.name,
    onChange: (key, _previous, next) => next && seen.push(key),
  });
  t.after(() => (cache.stop(), server.close()));
  await cache.start();
  await until(() => seen.includes("after-relist"));
  // An unhandled 'error' from the abandoned stream would have ended this process by now.
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen, ["after-relist"]);
  assert.ok(server.watches() >= 2, "watched again after the relist");
  assert.ok(cache.healthy());
});

test("an informer is unhealthy after failing three times in a row, and healthy again once a watch stays open", async (t) => {
  let failing = true;
  const server = await scriptedServer((_call, res) => {
    if (failing) res.writeHead(500, { "content-type": "application/json" }).end("{}");
    else open(res); // accepted, then quiet: no event, not even a bookmark
  });
  const cache = informer(server.http, {
    name: "namespaces",
    path: "/api/v1/namespaces",
    view: (o) => o.metadata?.name,
    onChange: () => {},
  });
  t.after(() => (cache.stop(), server.close()));
  await cache.start();
  await until(() => server.watches() >= 3 && !cache.healthy());
  assert.equal(cache.healthy(), false);
  failing = false;
  await until(() => cache.healthy());
  assert.equal(
    cache.healthy(),
    true,
    "healthy while the new watch is open a second, before it ends or delivers",
  );
});
