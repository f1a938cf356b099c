// Placeholder and SecretExport writes the API server refuses, against a scripted server: what the
// object shows (status annotation, Warning Event WriteRejected), once per transition, retried slowly.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test, type TestContext } from "node:test";
import {
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_STATUS,
  DOCKER_CONFIG_JSON_KEY,
  REASON_WRITE_REJECTED,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../../src/constants.ts";
import type { Context } from "../../src/controller/context.ts";
import { errorClassOf, retryDelayOf } from "../../src/controller/errors.ts";
import { reconcileExport } from "../../src/controller/exports.ts";
import { reconcilePlaceholder } from "../../src/controller/placeholders.ts";
import {
  answer,
  list,
  openWatch,
  type Recorded,
  scriptedServer,
  status,
} from "../runtime/scripted-server.ts";
import { syncedState, testContext } from "./test-context.ts";

const encoded = (text: string) => Buffer.from(text).toString("base64");
const source = {
  metadata: { namespace: "a", name: "creds", uid: "s1", resourceVersion: "5" },
  type: SECRET_TYPE_DOCKER_CONFIG_JSON,
  data: {
    [DOCKER_CONFIG_JSON_KEY]: encoded('{"auths":{"r.example.com":{"username":"u","password":"c2VjcmV0"}}}'),
  },
};
const exported = {
  metadata: { namespace: "a", name: "creds", uid: "e1", resourceVersion: "6", generation: 1 },
  spec: { toNamespaces: ["b"] },
};
const placeholder = {
  metadata: {
    namespace: "b",
    name: "pull",
    uid: "p1",
    resourceVersion: "8",
    annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" },
  },
  type: SECRET_TYPE_DOCKER_CONFIG_JSON,
  data: { [DOCKER_CONFIG_JSON_KEY]: encoded('{"auths":{}}') },
};
const namespace = (name: string) => ({ metadata: { name, resourceVersion: "1" } });
const PLACEHOLDER_PATH = "/api/v1/namespaces/b/secrets/pull";
const EXPORT_STATUS_PATH = "/apis/secretgen.carvel.dev/v1alpha1/namespaces/a/secretexports/creds/status";
const DENIED = "ValidatingAdmissionPolicy 'freeze' with binding 'freeze' denied request: frozen";

/** Export a/creds reaching placeholder b/pull; a write is refused while `refuse` says so. */
async function cluster(t: TestContext, refuse: (write: Recorded) => boolean) {
  const server = await scriptedServer((request, res: ServerResponse) => {
    if (request.watch) return openWatch(res);
    if (request.method !== "GET") {
      if (refuse(request)) return answer(res, 422, status(422, "Invalid", DENIED));
      return answer(res, request.method === "POST" ? 201 : 200, { metadata: { resourceVersion: "9" } });
    }
    const path = request.path;
    if (path === "/api/v1/namespaces") return answer(res, 200, list("1", [namespace("a"), namespace("b")]));
    if (path.endsWith("/secretexports")) return answer(res, 200, list("1", [exported]));
    if (path === "/api/v1/namespaces/a/secrets/creds") return answer(res, 200, source);
    const docker = request.query.get("fieldSelector") === `type=${SECRET_TYPE_DOCKER_CONFIG_JSON}`;
    answer(res, 200, list("1", docker ? [source, placeholder] : []));
  });
  const ctx = testContext(server.http, await syncedState(t, server));
  /** One reconcile: its error, if any, and the writes it made. */
  const run = async (reconcile: (ctx: Context, key: string) => Promise<unknown>, key: string) => {
    const before = server.requests.length;
    const error = await reconcile(ctx, key).then(
      () => undefined,
      (err: unknown) => err,
    );
    return { error, writes: server.requests.slice(before).filter((r) => r.method !== "GET") };
  };
  return { run };
}

const isEvent = (r: Recorded) => r.path.endsWith("/events");
const eventReason = (r: Recorded) => (JSON.parse(r.body) as { type: string; reason: string }).reason;
const carriesData = (r: Recorded) => (JSON.parse(r.body) as { data?: unknown }).data !== undefined;

test("a placeholder whose fill is refused says WriteRejected in its status annotation and by one Warning Event, retried slowly", async (t) => {
  const { run } = await cluster(t, (w) => w.path === PLACEHOLDER_PATH && carriesData(w));
  const first = await run(reconcilePlaceholder, "b/pull");
  assert.equal(errorClassOf(first.error), "rejected", "a failed reconcile, for the error metrics");
  assert.ok((retryDelayOf(first.error, 5) ?? 0) >= 60_000, "retried in minutes");
  const [fill, annotation, event, ...rest] = first.writes;
  assert.deepEqual(rest, []);
  assert.ok(fill && carriesData(fill), "the fill was tried");
  assert.ok(annotation && annotation.path === PLACEHOLDER_PATH && !carriesData(annotation));
  const written = (JSON.parse(annotation.body) as { metadata: { annotations: Record<string, string> } })
    .metadata.annotations[ANNOTATION_STATUS];
  const condition = (JSON.parse(String(written)) as { conditions: Record<string, string>[] }).conditions[0];
  assert.deepEqual(condition, {
    type: "ReconcileFailed",
    status: "True",
    reason: REASON_WRITE_REJECTED,
    message: `Invalid: ${DENIED}`,
  });
  assert.ok(event && isEvent(event) && eventReason(event) === REASON_WRITE_REJECTED);
  assert.doesNotMatch(annotation.body + event.body, /c2VjcmV0/, "never the credentials");

  const again = await run(reconcilePlaceholder, "b/pull");
  assert.equal(errorClassOf(again.error), "rejected");
  assert.equal(again.writes.filter(isEvent).length, 0, "no second Event while it stays refused");
});

test("a placeholder whose status annotation is refused too: the Warning Event still says it, once", async (t) => {
  const { run } = await cluster(t, (w) => w.path === PLACEHOLDER_PATH);
  const first = await run(reconcilePlaceholder, "b/pull");
  assert.equal(errorClassOf(first.error), "rejected");
  assert.deepEqual(
    first.writes.map((w) => (isEvent(w) ? `Event ${eventReason(w)}` : `${w.method} ${w.path}`)),
    [`PATCH ${PLACEHOLDER_PATH}`, `PATCH ${PLACEHOLDER_PATH}`, `Event ${REASON_WRITE_REJECTED}`],
  );
  const again = await run(reconcilePlaceholder, "b/pull");
  assert.equal(again.writes.filter(isEvent).length, 0);
});

test("a SecretExport whose status write is refused gets one Warning Event WriteRejected, retried slowly", async (t) => {
  const { run } = await cluster(t, (w) => w.path === EXPORT_STATUS_PATH);
  const first = await run(reconcileExport, "a/creds");
  assert.equal(errorClassOf(first.error), "rejected");
  assert.ok((retryDelayOf(first.error, 5) ?? 0) >= 60_000, "retried in minutes");
  assert.deepEqual(
    first.writes.map((w) => (isEvent(w) ? `Event ${eventReason(w)}` : `${w.method} ${w.path}`)),
    [`PATCH ${EXPORT_STATUS_PATH}`, `Event ${REASON_WRITE_REJECTED}`],
  );
  const again = await run(reconcileExport, "a/creds");
  assert.equal(errorClassOf(again.error), "rejected");
  assert.deepEqual(again.writes.filter(isEvent), [], "no second Event while it stays refused");
});
