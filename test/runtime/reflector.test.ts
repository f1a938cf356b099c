// The informer's list/watch rules, one test each, against a scripted server and virtual time: what
// client-go's reflector does under faults (resume, back off, list from the watch cache, no leaks).
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { informer } from "../../src/runtime/informer.ts";
import type { KubeObject } from "../../src/runtime/kube-http.ts";
import { fakeClock } from "./fake-clock.ts";
import {
  answer,
  list,
  openWatch,
  type Script,
  scriptedServer,
  status,
  until,
  watchEvent,
} from "./scripted-server.ts";

const namespace = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { name, resourceVersion },
});
const bookmark = (resourceVersion: string) => ({ metadata: { resourceVersion } });

/** A namespaces informer on virtual time, without jitter (Math.random() is 0), stopped after the test. */
async function setup(t: TestContext, script: Script) {
  t.mock.method(Math, "random", () => 0);
  const server = await scriptedServer(script);
  const clock = fakeClock();
  const errors: unknown[] = [];
  const cache = informer(server.http, {
    name: "namespaces",
    path: "/api/v1/namespaces",
    view: (o) => o.metadata?.resourceVersion,
    onChange: () => {},
    onError: (err) => errors.push(err),
    clock,
  });
  t.after(() => (cache.stop(), server.close()));
  /** True once nothing is in flight and the informer waits on a single timer: its backoff. */
  const backingOff = () => server.open() === 0 && clock.pendingTimers() === 1;
  return { server, clock, cache, errors, backingOff };
}

test("a watch that breaks mid-stream resumes from the last event's resourceVersion, bookmarks included", async (t) => {
  const { server, clock, cache, backingOff } = await setup(t, (request, res) => {
    if (!request.watch) return answer(res, 200, list("10"));
    openWatch(res);
    if (request.call > 1) return;
    res.write(watchEvent("ADDED", namespace("a", "20")));
    res.write(watchEvent("BOOKMARK", bookmark("25")));
    setTimeout(() => res.destroy(), 50); // the connection breaks: not a clean end of the watch
  });
  await cache.start();
  await until(backingOff, 5_000);
  await clock.advance(30_000);
  assert.ok(await until(() => server.watches().length === 2));
  const [first, second] = server.watches();
  assert.equal(first?.query.get("allowWatchBookmarks"), "true");
  assert.equal(second?.query.get("resourceVersion"), "25", "the version of the last event, a bookmark");
});

test("a watch that ends within a second without events backs off, and three in a row make the informer unhealthy", async (t) => {
  let accept = false;
  const { server, clock, cache, backingOff } = await setup(t, (request, res) => {
    if (!request.watch) return answer(res, 200, list("10"));
    openWatch(res);
    if (accept) res.write(watchEvent("BOOKMARK", bookmark("11")));
    else res.end(); // 200 and an empty body, as a load balancer in front of the API server may answer
  });
  await cache.start();
  assert.ok(await until(backingOff, 5_000), "waiting after the first very short watch");
  assert.equal(server.watches().length, 1);
  assert.ok(cache.healthy(), "one failure is not yet unhealthy");
  await clock.advance(800);
  assert.ok(await until(() => server.watches().length === 2 && backingOff()));
  await clock.advance(1_599);
  assert.equal(server.watches().length, 2, "the second wait is twice as long");
  await clock.advance(1);
  assert.ok(await until(() => server.watches().length === 3 && backingOff()));
  assert.equal(cache.healthy(), false, "three very short watches in a row");
  accept = true;
  await clock.advance(3_200);
  assert.ok(await until(() => cache.healthy()), "healthy again once a watch delivers");
});

test("lists are served from the watch cache: resourceVersion 0 first, after a 410 not older than the last version seen", async (t) => {
  const { server, cache } = await setup(t, (request, res) => {
    if (!request.watch) return answer(res, 200, list(request.call === 1 ? "10" : "30"));
    openWatch(res);
    if (request.call === 1) {
      res.write(watchEvent("ADDED", namespace("a", "20")));
      res.write(watchEvent("ERROR", status(410, "Expired")));
    }
  });
  await cache.start();
  assert.ok(await until(() => server.watches().length === 2));
  const [first, second] = server.lists();
  assert.equal(first?.query.get("resourceVersion"), "0");
  assert.equal(first?.query.get("resourceVersionMatch"), null);
  assert.equal(second?.query.get("resourceVersion"), "20");
  assert.equal(second?.query.get("resourceVersionMatch"), "NotOlderThan");
  assert.equal(server.watches()[1]?.query.get("resourceVersion"), "30");
});

test("an expired continue token backs off and counts as a failure instead of relisting at once", async (t) => {
  const { server, clock, cache, backingOff } = await setup(t, (request, res) => {
    if (request.watch) return openWatch(res);
    if (request.query.get("continue")) return answer(res, 410, status(410, "Expired", "continue expired"));
    answer(res, 200, list("10", [namespace("a", "9")], "next-page"));
  });
  void cache.start();
  for (let failure = 1; failure <= 3; failure++) {
    assert.ok(await until(() => server.lists().length === 2 * failure && backingOff()), `failure ${failure}`);
    assert.equal(cache.healthy(), failure <= 2);
    const page = server.lists()[2 * failure - 1];
    assert.equal(page?.query.get("resourceVersion"), null, "a continued page carries no resourceVersion");
    await clock.advance(30_000);
  }
});

test("failed lists and watches leave no abort listener behind", async (t) => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  t.after(() => process.off("warning", onWarning));
  const { server, clock, cache, errors, backingOff } = await setup(t, (_request, res) =>
    answer(res, 500, status(500, "InternalError")),
  );
  void cache.start();
  for (let failure = 1; failure <= 15; failure++) {
    assert.ok(await until(() => errors.length === failure && backingOff()), `failure ${failure}`);
    await clock.advance(30_000);
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(server.lists().length >= 15);
  assert.deepEqual(
    warnings.map((w) => w.name),
    [],
  );
});

test("a watch silent for longer than the idle limit is ended and resumed from its last event", async (t) => {
  const { server, clock, cache } = await setup(t, (request, res) => {
    if (!request.watch) return answer(res, 200, list("10"));
    openWatch(res);
    if (request.call === 1) res.write(watchEvent("BOOKMARK", bookmark("12")));
  });
  await cache.start();
  assert.ok(await until(() => server.watches().length === 1 && clock.pendingTimers() > 0));
  await clock.advance(150_001);
  assert.ok(await until(() => server.watches().length === 2));
  const [first, second] = server.watches();
  const timeout = Number(first?.query.get("timeoutSeconds"));
  assert.ok(timeout >= 300 && timeout < 600, `timeoutSeconds ${timeout}`);
  assert.equal(second?.query.get("resourceVersion"), "12");
  assert.ok(cache.healthy());
});

test("a watch answered with an error event other than 410 backs off, then relists instead of resuming the same version", async (t) => {
  const { server, clock, cache, backingOff } = await setup(t, (request, res) => {
    if (!request.watch) return answer(res, 200, list(request.call === 1 ? "10" : "40"));
    openWatch(res);
    // What an API server without its watch cache answers when etcd compacted the history it resumes from.
    if (request.call === 1)
      res.write(watchEvent("ERROR", status(500, "InternalError", "etcd event received with PrevKv=nil")));
  });
  await cache.start();
  assert.ok(await until(backingOff, 5_000), "backing off");
  await clock.advance(30_000);
  assert.ok(await until(() => server.watches().length === 2));
  assert.equal(server.lists().length, 2, "relisted");
  assert.equal(server.watches()[1]?.query.get("resourceVersion"), "40");
});
