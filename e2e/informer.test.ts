// The informer is what every decision reads; it must see exactly the objects asked for, report the
// previous state on each change, and keep Secret data out of metadata-only caches.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { informer } from "../src/runtime/informer.ts";
import { type KubeObject, kubeHttp } from "../src/runtime/kube-http.ts";
import { adminKubeConfig, eventually, testNamespace } from "./support/cluster.ts";

interface Change {
  key: string;
  previous?: string;
  next?: string;
}

function recordingInformer(namespace: string, options: { fieldSelector?: string; metadataOnly?: boolean }) {
  const changes: Change[] = [];
  const view = (o: KubeObject) => JSON.stringify({ labels: o.metadata?.labels ?? {}, data: o.data ?? null });
  const cache = informer(kubeHttp(adminKubeConfig()), {
    name: "test",
    path: `/api/v1/namespaces/${namespace}/secrets`,
    ...options,
    view,
    onChange: (key, previous, next) => changes.push({ key, previous, next }),
  });
  return { cache, changes };
}

test("an informer with a field selector caches only the matching Secrets", async (t) => {
  const namespace = await testNamespace(t);
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: "opaque" }, stringData: { a: "b" } },
  });
  const { cache, changes } = recordingInformer(namespace, {
    fieldSelector: "type=kubernetes.io/dockerconfigjson",
  });
  await cache.start();
  t.after(() => cache.stop());
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: "pull" },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": '{"auths":{}}' },
    },
  });
  await eventually("pull secret cached", async () => cache.get(`${namespace}/pull`));
  assert.equal(cache.get(`${namespace}/opaque`), undefined);
  assert.deepEqual(
    changes.map((c) => c.key),
    [`${namespace}/pull`],
  );
});

test("an informer reports the previous view with every update and delete", async (t) => {
  const namespace = await testNamespace(t);
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const { cache, changes } = recordingInformer(namespace, {});
  await cache.start();
  t.after(() => cache.stop());
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: "s", labels: { v: "1" } } } });
  await core.patchNamespacedSecret({
    namespace,
    name: "s",
    body: [{ op: "replace", path: "/metadata/labels/v", value: "2" }],
  });
  await core.deleteNamespacedSecret({ namespace, name: "s" });
  const key = `${namespace}/s`;
  await eventually("delete seen", async () =>
    changes.some((c) => c.key === key && !c.next) ? true : undefined,
  );
  const mine = changes.filter((c) => c.key === key);
  assert.deepEqual(
    mine.map((c) => [c.previous && JSON.parse(c.previous).labels.v, c.next && JSON.parse(c.next).labels.v]),
    [
      [undefined, "1"],
      ["1", "2"],
      ["2", undefined],
    ],
  );
});

test("a metadata-only informer sees annotations but never Secret data", async (t) => {
  const namespace = await testNamespace(t);
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: "s", labels: { team: "a" } }, stringData: { password: "hunter2" } },
  });
  const { cache } = recordingInformer(namespace, { metadataOnly: true });
  await cache.start();
  t.after(() => cache.stop());
  assert.deepEqual(JSON.parse(cache.get(`${namespace}/s`) ?? "{}"), { labels: { team: "a" }, data: null });
});
