// The cluster state's memos against a scripted server: a relist forgets what it can no longer vouch
// for, and placeholders reached by the same exports share one candidate list.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test } from "node:test";
import { SECRET_TYPE_DOCKER_CONFIG_JSON } from "../../src/constants.ts";
import { createClusterState } from "../../src/controller/state.ts";
import {
  answer,
  list,
  openWatch,
  scriptedServer,
  status,
  until,
  watchEvent,
} from "../runtime/scripted-server.ts";
import { noopHandlers, syncedState } from "./test-context.ts";

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
  const state = createClusterState(server.http, noopHandlers);
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

const dockerSource = (name: string, resourceVersion: string, password: string) => ({
  metadata: { namespace: "platform", name, uid: `s-${name}`, resourceVersion },
  type: SECRET_TYPE_DOCKER_CONFIG_JSON,
  data: {
    ".dockerconfigjson": Buffer.from(
      JSON.stringify({ auths: { [`${name}.example`]: { username: "u", password } } }),
    ).toString("base64"),
  },
});
const namespaceList = (names: string[]) =>
  list(
    "10",
    names.map((name) => ({ metadata: { name, uid: name, resourceVersion: "2" } })),
  );
const exportOf = (name: string, spec: unknown) => ({
  metadata: { namespace: "platform", name, uid: `e-${name}`, resourceVersion: "3", generation: 1 },
  spec,
});

test("namespaces reached by the same exports share one candidate list, and a new source version makes a new one", async (t) => {
  let all = dockerSource("all", "5", "first");
  let dockerWatch: ServerResponse | undefined;
  const server = await scriptedServer((request, res) => {
    if (request.watch) {
      openWatch(res);
      if (request.query.get("fieldSelector") === `type=${SECRET_TYPE_DOCKER_CONFIG_JSON}`) dockerWatch = res;
      return;
    }
    if (request.path === "/api/v1/namespaces") return answer(res, 200, namespaceList(["t1", "t2", "t3"]));
    if (request.path.endsWith("/secretexports")) {
      const exports = [exportOf("all", { toNamespaces: ["*"] }), exportOf("t3", { toNamespace: "t3" })];
      return answer(res, 200, list("10", exports));
    }
    if (request.path === "/api/v1/secrets" && request.query.get("fieldSelector")?.startsWith("type="))
      return answer(res, 200, list("10", [all, dockerSource("t3", "6", "third")]));
    if (request.path === "/api/v1/namespaces/platform/secrets/all") return answer(res, 200, all);
    if (request.path === "/api/v1/namespaces/platform/secrets/t3")
      return answer(res, 200, dockerSource("t3", "6", "third"));
    answer(res, 200, list("10"));
  });
  const state = await syncedState(t, server);
  const candidates = (name: string) => {
    const namespace = state.namespaces.get(name);
    assert.ok(namespace);
    return state.candidatesFor(namespace);
  };
  const passwords = (list: readonly { source: unknown }[]) => JSON.stringify(list.map((c) => c.source));

  const [t1, t2, t3] = await Promise.all([candidates("t1"), candidates("t2"), candidates("t3")]);
  assert.equal(t1, t2, "the same exports reach t1 and t2: one list");
  assert.deepEqual(
    t3.map((c) => c.exportKey),
    ["platform/all", "platform/t3"],
  );
  assert.match(passwords(t1), /first/);

  all = dockerSource("all", "7", "rotated");
  assert.ok(await until(() => dockerWatch !== undefined));
  dockerWatch?.write(watchEvent("MODIFIED", all));
  assert.ok(await until(() => state.dockerSecrets.get("platform/all")?.resourceVersion === "7"));
  const after = await candidates("t1");
  assert.notEqual(after, t1, "a new version of the source: a new list");
  assert.match(passwords(after), /rotated/);
  assert.equal(await candidates("t2"), after, "shared again");
});

test("the namespaces an export reaches follow a change of its placement, and a status write keeps them", async (t) => {
  let exportWatch: ServerResponse | undefined;
  const only = exportOf("all", { toNamespace: "t1" });
  const server = await scriptedServer((request, res) => {
    if (request.watch) {
      openWatch(res);
      if (request.path.endsWith("/secretexports")) exportWatch = res;
      return;
    }
    if (request.path === "/api/v1/namespaces") return answer(res, 200, namespaceList(["t1", "t2"]));
    if (request.path.endsWith("/secretexports")) return answer(res, 200, list("10", [only]));
    answer(res, 200, list("10"));
  });
  const state = await syncedState(t, server);
  const reached = () => state.namespacesReachedBy(state.exports.get("platform/all")).sort();
  assert.deepEqual(reached(), ["t1"]);
  assert.ok(await until(() => exportWatch !== undefined));

  const withStatus = {
    ...only,
    metadata: { ...only.metadata, resourceVersion: "4" },
    status: { observedGeneration: 1 },
  };
  exportWatch?.write(watchEvent("MODIFIED", withStatus));
  assert.ok(await until(() => state.exports.get("platform/all")?.resourceVersion === "4"));
  assert.deepEqual(reached(), ["t1"], "a status write");

  const everywhere = {
    ...exportOf("all", { toNamespaces: ["*"] }),
    metadata: { ...only.metadata, resourceVersion: "5", generation: 2 },
  };
  exportWatch?.write(watchEvent("MODIFIED", everywhere));
  assert.ok(await until(() => state.exports.get("platform/all")?.resourceVersion === "5"));
  assert.deepEqual(reached(), ["t1", "t2"], "the spec now reaches every namespace");
});
