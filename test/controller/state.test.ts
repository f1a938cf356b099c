// The cluster state's memos against a scripted server: a relist forgets what it can no longer vouch for.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test } from "node:test";
import { SECRET_TYPE_DOCKER_CONFIG_JSON } from "../../src/constants.ts";
import { type ChangeHandlers, createClusterState } from "../../src/controller/state.ts";
import {
  answer,
  list,
  openWatch,
  scriptedServer,
  status,
  until,
  watchEvent,
} from "../runtime/scripted-server.ts";

const noop = () => {};
const handlers: ChangeHandlers = {
  namespace: noop,
  export: noop,
  dockerSecret: noop,
  secretMetadata: noop,
  import: noop,
  copy: noop,
  sourcesRelisted: noop,
  informerError: noop,
};

const source = {
  metadata: { namespace: "a", name: "src", uid: "u1", resourceVersion: "5" },
  type: "Opaque",
  data: { password: "c2VjcmV0" },
};
const exported = {
  metadata: { namespace: "a", name: "src", uid: "e1", resourceVersion: "6", generation: 1 },
  spec: { toNamespaces: ["*"] },
};

const isMetadataWatch = (query: URLSearchParams) =>
  query.get("fieldSelector") === `type!=${SECRET_TYPE_DOCKER_CONFIG_JSON}`;

test("a source read before a watch gap is forgotten when the gap ends in a relist that no longer has it", async (t) => {
  let deleted = false;
  let metadataWatch: ServerResponse | undefined;
  const server = await scriptedServer((request, res) => {
    if (request.watch) {
      openWatch(res);
      if (isMetadataWatch(request.query) && request.call > 0) metadataWatch = res;
      return;
    }
    if (request.path === "/api/v1/namespaces/a/secrets/src")
      return deleted ? answer(res, 404, status(404, "NotFound")) : answer(res, 200, source);
    if (request.path.endsWith("/secretexports")) return answer(res, 200, list("10", [exported]));
    // The source was created before its export, so the metadata watch never kept it.
    answer(res, 200, list("10"));
  });
  const state = createClusterState(server.http, handlers);
  t.after(() => (state.stop(), server.close()));
  await state.start();
  assert.equal((await state.sourceData("a/src"))?.type, "Opaque");

  // While the watch is down the source is deleted and etcd compacted: the resumed watch gets 410.
  deleted = true;
  const listsBefore = server.lists().length;
  assert.ok(await until(() => metadataWatch !== undefined));
  metadataWatch?.write(watchEvent("ERROR", status(410, "Expired")));
  assert.ok(await until(() => server.lists().length > listsBefore), "relisted");
  assert.ok(await until(() => server.watches().filter((w) => isMetadataWatch(w.query)).length >= 2));

  assert.equal(await state.sourceData("a/src"), undefined, "read again, and gone");
});
