// The foundation every other test stands on: a real kube-apiserver over a real etcd, RBAC enforced,
// and the kube-controller-manager controllers that make namespace deletion and GC real.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreV1Api, VersionApi } from "@kubernetes/client-node";
import {
  adminKubeConfig,
  eventually,
  ignoreNotFound,
  serviceAccountKubeConfig,
  statusCode,
  testNamespace,
  uniqueName,
} from "./support/cluster.ts";

test("the API server reports the pinned Kubernetes version", async () => {
  const version = await adminKubeConfig().makeApiClient(VersionApi).getCode();
  assert.equal(version.gitVersion, "v1.37.2");
});

test("a Secret created with the admin kubeconfig can be read back", async (t) => {
  const namespace = await testNamespace(t);
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: "hello" }, stringData: { greeting: "hi" } },
  });
  const read = await core.readNamespacedSecret({ namespace, name: "hello" });
  assert.equal(Buffer.from(read.data?.greeting ?? "", "base64").toString(), "hi");
});

test("a ServiceAccount without an RBAC grant is refused with 403", async (t) => {
  const namespace = await testNamespace(t);
  const identity = await serviceAccountKubeConfig(namespace, "no-grants");
  const core = identity.makeApiClient(CoreV1Api);
  const err = await core.listNamespacedSecret({ namespace }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal(statusCode(err), 403);
});

test("deleting a namespace completes because the namespace controller runs", async () => {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const name = uniqueName("gone");
  await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: "content" } } });
  await core.deleteNamespace({ name });
  await eventually("namespace removed", async () =>
    (await core.readNamespace({ name }).catch(ignoreNotFound)) === undefined ? true : undefined,
  );
});

test("a dependent is garbage-collected when its owner is deleted", async (t) => {
  const namespace = await testNamespace(t);
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "owner" } } });
  const ownerReferences = [
    { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata?.uid ?? "", controller: true },
  ];
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: "dependent", ownerReferences } },
  });
  await core.deleteNamespacedConfigMap({ namespace, name: "owner" });
  await eventually("dependent collected", async () =>
    (await core.readNamespacedSecret({ namespace, name: "dependent" }).catch(ignoreNotFound)) === undefined
      ? true
      : undefined,
  );
});
