// The import reconcile's write path against a scripted server: what it reports when a write is
// answered 409 or rejected, and the preconditions it deletes with.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test, type TestContext } from "node:test";
import { LABEL_IMPORTED, REASON_WRITE_REJECTED } from "../../src/constants.ts";
import { errorClassOf, retryDelayOf } from "../../src/controller/errors.ts";
import { reconcileImport } from "../../src/controller/imports.ts";
import {
  answer,
  list,
  openWatch,
  type Recorded,
  scriptedServer,
  status,
} from "../runtime/scripted-server.ts";
import { syncedState, testContext } from "./test-context.ts";

const source = (type: string) => ({
  metadata: { namespace: "a", name: "creds", uid: "s1", resourceVersion: "5" },
  type,
  data: { password: "c2VjcmV0" },
});
const exported = {
  metadata: { namespace: "a", name: "creds", uid: "e1", resourceVersion: "6", generation: 1 },
  spec: { toNamespaces: ["*"] },
};
const imported = {
  metadata: { namespace: "b", name: "creds", uid: "i1", resourceVersion: "7", generation: 1 },
  spec: { fromNamespace: "a" },
};
const ourCopy = (type: string) => ({
  metadata: {
    namespace: "b",
    name: "creds",
    uid: "c1",
    resourceVersion: "8",
    labels: { [LABEL_IMPORTED]: "true" },
    ownerReferences: [
      {
        apiVersion: "secretgen.carvel.dev/v1alpha1",
        kind: "SecretImport",
        name: "creds",
        uid: "i1",
        controller: true,
      },
    ],
  },
  type,
  data: { password: "b2xk" },
});

/**
 * A cluster with export a/creds (source of `sourceType`) reaching namespace b, import b/creds, and
 * `copy` (if any) in b; writes are answered by `onWrite` (undefined: as the API server would).
 */
async function reconcileOnce(
  t: TestContext,
  options: {
    sourceType: string;
    copy?: unknown;
    onWrite?: (request: Recorded, res: ServerResponse) => boolean;
  },
) {
  const server = await scriptedServer((request, res) => {
    if (request.watch) return openWatch(res);
    if (request.method !== "GET") {
      if (options.onWrite?.(request, res)) return;
      return answer(res, request.method === "POST" ? 201 : 200, { metadata: {} });
    }
    const path = request.path;
    if (path === "/api/v1/namespaces")
      return answer(res, 200, list("1", [{ metadata: { name: "b", resourceVersion: "1" } }]));
    if (path.endsWith("/secretexports")) return answer(res, 200, list("1", [exported]));
    if (path.endsWith("/secretimports")) return answer(res, 200, list("1", [imported]));
    if (path === "/api/v1/namespaces/a/secrets/creds") return answer(res, 200, source(options.sourceType));
    if (path === "/api/v1/namespaces/b/secrets/creds")
      return options.copy ? answer(res, 200, options.copy) : answer(res, 404, status(404, "NotFound"));
    const labelled = request.query.get("labelSelector") !== null;
    answer(res, 200, list("1", labelled && options.copy ? [options.copy] : []));
  });
  const state = await syncedState(t, server);
  const ctx = testContext(server.http, state);
  const before = server.requests.length;
  const result = await reconcileImport(ctx, "b/creds").then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return { result, writes: server.requests.slice(before).filter((r) => r.method !== "GET") };
}

const isStatus = (r: Recorded) => r.path.endsWith("/secretimports/creds/status");
const isEvent = (r: Recorded) => r.path.endsWith("/events");

test("an import whose create is answered 409 AlreadyExists reports nothing until it has decided again", async (t) => {
  const { result, writes } = await reconcileOnce(t, {
    sourceType: "Opaque",
    onWrite: (request, res) =>
      request.path === "/api/v1/namespaces/b/secrets" &&
      (answer(res, 409, status(409, "AlreadyExists")), true),
  });
  assert.deepEqual(
    writes.map((w) => `${w.method} ${w.path}`),
    ["POST /api/v1/namespaces/b/secrets"],
    "no status, no Event",
  );
  assert.ok("value" in result && (result.value.requeueAfterMs ?? 0) > 0, "decides again soon");
});

test("a copy replaced for a new source type is deleted only if it is still the one decided on (UID and resourceVersion)", async (t) => {
  const { writes } = await reconcileOnce(t, {
    sourceType: "Opaque",
    copy: ourCopy("kubernetes.io/basic-auth"),
  });
  const deletion = writes.find((w) => w.method === "DELETE");
  assert.ok(deletion, `writes: ${writes.map((w) => w.method).join(",")}`);
  assert.deepEqual(JSON.parse(deletion.body), { preconditions: { uid: "c1", resourceVersion: "8" } });
});

test("a copy the API server rejects (a ResourceQuota's 403) puts the import to Ready=False WriteRejected, retried slowly", async (t) => {
  const quota =
    'secrets "creds" is forbidden: exceeded quota: no-secrets, requested: secrets=1, used: secrets=0, limited: secrets=0';
  const { result, writes } = await reconcileOnce(t, {
    sourceType: "Opaque",
    onWrite: (request, res) =>
      request.path === "/api/v1/namespaces/b/secrets" &&
      (answer(res, 403, status(403, "Forbidden", quota)), true),
  });
  assert.ok("error" in result, "a failed reconcile, for the error metrics");
  assert.equal(errorClassOf(result.error), "rejected");
  assert.ok((retryDelayOf(result.error, 5) ?? 0) >= 60_000, "retried in minutes, not with fast backoff");
  const patch = writes.find(isStatus);
  assert.ok(patch, "status written");
  const ready = (
    JSON.parse(patch.body) as {
      status: { conditions: { type: string; status: string; reason: string; message: string }[] };
    }
  ).status.conditions.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "False");
  assert.equal(ready?.reason, REASON_WRITE_REJECTED);
  assert.match(ready?.message ?? "", /^Forbidden: secrets "creds" is forbidden: exceeded quota: no-secrets/);
  assert.doesNotMatch(patch.body, /c2VjcmV0/, "never the Secret's data");
  assert.equal(writes.filter(isEvent).length, 1, "one Warning Event on the transition");
});
