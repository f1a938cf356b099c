// The HTTP client against a scripted server: deadlines (requests accepted and never answered), and
// what a 404 means to getOrUndefined.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, getOrUndefined, kubeHttp, REQUEST_TIMEOUT_MS } from "../../src/runtime/kube-http.ts";
import { answer, scriptedServer, status } from "./scripted-server.ts";

/** Whether the promise settles (either way) within `ms` of real time; never hangs a failing test. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<"settled" | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(resolve, ms, "hung")));
  const outcome = await Promise.race([
    promise.then(
      () => "settled" as const,
      () => "settled" as const,
    ),
    hung,
  ]);
  clearTimeout(timer);
  return outcome;
}

test("a request that is never answered fails at its deadline, naming the request", async (t) => {
  const server = await scriptedServer(() => {}); // accepted, never answered
  t.after(() => server.close());
  const patch = server.http.request("/api/v1/namespaces/a/secrets/b", {
    method: "PATCH",
    body: { data: { key: "c2VjcmV0" } },
    timeoutMs: 200,
  });
  assert.equal(await settlesWithin(patch, 5_000), "settled");
  await assert.rejects(patch, (err: Error) => {
    assert.match(err.message, /PATCH \/api\/v1\/namespaces\/a\/secrets\/b: no answer within 200 ms/);
    assert.doesNotMatch(err.message, /c2VjcmV0/);
    return true;
  });
});

test("a request whose body never completes fails at its deadline too", async (t) => {
  const server = await scriptedServer((_request, res) => {
    res.writeHead(200, { "content-type": "application/json" }).write('{"items": [');
  });
  t.after(() => server.close());
  const read = server.http.request("/api/v1/namespaces", { timeoutMs: 200 });
  assert.equal(await settlesWithin(read, 5_000), "settled");
  await assert.rejects(read, /no answer within 200 ms/);
});

test("the client's request timeout (--request-timeout) is the deadline of every request that has none of its own", async (t) => {
  const server = await scriptedServer(() => {});
  t.after(() => server.close());
  const http = kubeHttp(server.kubeConfig, undefined, 300);
  const patch = http.request("/api/v1/namespaces/a/secrets/b", { method: "PATCH", body: {} });
  assert.equal(await settlesWithin(patch, 5_000), "settled");
  await assert.rejects(patch, /PATCH \/api\/v1\/namespaces\/a\/secrets\/b: no answer within 300 ms/);
  const own = http.request("/api/v1/namespaces", { timeoutMs: 100 });
  await assert.rejects(own, /no answer within 100 ms/, "a request's own deadline wins");
});

test("the caller's signal still ends a request that has a deadline", async (t) => {
  const server = await scriptedServer(() => {});
  t.after(() => server.close());
  const caller = new AbortController();
  const read = server.http.request("/api/v1/namespaces", { signal: caller.signal });
  caller.abort();
  assert.equal(await settlesWithin(read, 5_000), "settled");
  assert.equal(REQUEST_TIMEOUT_MS, 30_000);
});

test("ApiError keeps the status, reason and the start of a long server message only", () => {
  const echoed = `admission webhook denied: ${"c2VjcmV0".repeat(200)}`;
  const err = new ApiError(422, "PATCH", "/api/v1/namespaces/a/secrets/b", "Invalid", echoed);
  assert.equal(err.status, 422);
  assert.match(
    err.message,
    /^PATCH \/api\/v1\/namespaces\/a\/secrets\/b: 422 Invalid: admission webhook denied/,
  );
  assert.ok(err.message.length < 300, `${err.message.length} characters`);
  assert.equal(
    new ApiError(404, "GET", "/x", "NotFound", "not found").message,
    "GET /x: 404 NotFound: not found",
  );
});

test("getOrUndefined: the object when found, undefined on 404, and any other failure still throws", async (t) => {
  const server = await scriptedServer((request, res) => {
    if (request.path.endsWith("/found")) answer(res, 200, { metadata: { name: "found" } });
    else if (request.path.endsWith("/missing")) answer(res, 404, status(404, "NotFound"));
    else answer(res, 403, status(403, "Forbidden"));
  });
  t.after(() => server.close());
  const secrets = "/api/v1/namespaces/a/secrets";
  assert.deepEqual(await getOrUndefined(server.http, `${secrets}/found`), { metadata: { name: "found" } });
  assert.equal(await getOrUndefined(server.http, `${secrets}/missing`), undefined);
  await assert.rejects(getOrUndefined(server.http, `${secrets}/forbidden`), (err: ApiError) => {
    assert.equal(err.status, 403);
    return true;
  });
  assert.deepEqual(
    server.requests.map((r) => r.method),
    ["GET", "GET", "GET"],
  );
});
