// ClusterPlaceholders against the real control plane (SPEC §10), run as the shipped ServiceAccount:
// placeholders appear where namespaces match (labels, pods), are filled like any placeholder, go
// when the namespace stops matching or the ClusterPlaceholder is deleted, and nothing else is
// touched. kube-controller-manager creates the `default` ServiceAccounts, so that path is real.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import type { TestContext } from "node:test";
import { test } from "node:test";
import { CustomObjectsApi } from "@kubernetes/client-node";
import {
  ANNOTATION_ADDED_PULL_SECRETS,
  ANNOTATION_IMAGE_PULL_SECRET,
  CLUSTER_PLACEHOLDER_PLURAL,
  EVENT_CLUSTER_PLACEHOLDER_INVALID,
  LABEL_CLUSTER_PLACEHOLDER,
  OWN_GROUP,
  REASON_INVALID_SPEC,
  REASON_NAMESPACES_NOT_SERVED,
  REASON_PROVISIONED,
  REASON_SECRET_EXISTS,
} from "../src/constants.ts";
import {
  adminKubeConfig,
  eventually,
  ignoreNotFound,
  readUntil,
  testNamespace,
  uniqueName,
} from "./support/cluster.ts";
import { core, useController } from "./support/controller.ts";
import {
  cred,
  createExport,
  createSource,
  createTypedSecret,
  decodedData,
  expectAuths,
  readSecretIfAny,
} from "./support/fixtures.ts";
import { eventsFor, expectEvent, quiescent, setNamespaceLabels, uniquePrefix } from "./support/sharing.ts";
import type { ClusterPlaceholderExplanation } from "../src/explain/cluster-placeholders.ts";

const { controller } = useController();

const VERSION = "v1alpha1";
const custom = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
/** Generous: the machine is shared; the benchmark measures how fast it really is. */
const WAIT_MS = 30_000;

interface ClusterPlaceholderRead {
  metadata: { uid: string; generation: number };
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string }[];
    namespacesServed?: number;
    namespacesNotServed?: { namespace: string; reason: string }[];
  };
}

async function createClusterPlaceholder(t: TestContext, spec: Record<string, unknown>): Promise<string> {
  const name = uniqueName("cp");
  await custom().createClusterCustomObject({
    group: OWN_GROUP,
    version: VERSION,
    plural: CLUSTER_PLACEHOLDER_PLURAL,
    body: { apiVersion: `${OWN_GROUP}/${VERSION}`, kind: "ClusterPlaceholder", metadata: { name }, spec },
  });
  t.after(() => deleteClusterPlaceholder(name));
  return name;
}

const deleteClusterPlaceholder = (name: string) =>
  custom()
    .deleteClusterCustomObject({
      group: OWN_GROUP,
      version: VERSION,
      plural: CLUSTER_PLACEHOLDER_PLURAL,
      name,
    })
    .catch(ignoreNotFound);

const readClusterPlaceholder = async (name: string) =>
  (await custom().getClusterCustomObject({
    group: OWN_GROUP,
    version: VERSION,
    plural: CLUSTER_PLACEHOLDER_PLURAL,
    name,
  })) as ClusterPlaceholderRead;

const expectReady = (name: string, reason: string) =>
  readUntil(
    `ClusterPlaceholder ${name} Ready reason ${reason}`,
    () => readClusterPlaceholder(name),
    (read) => read.status?.conditions?.find((c) => c.type === "Ready")?.reason === reason,
    (last) => `last status ${JSON.stringify(last?.status)}`,
    WAIT_MS,
  );

const expectSecret = (namespace: string, name: string) =>
  eventually(`Secret ${namespace}/${name} exists`, () => readSecretIfAny(namespace, name), WAIT_MS);

const expectNoSecret = (namespace: string, name: string) =>
  eventually(
    `Secret ${namespace}/${name} is gone`,
    async () => ((await readSecretIfAny(namespace, name)) === undefined ? true : undefined),
    WAIT_MS,
  );

const pullSecretsOf = async (namespace: string, name = "default") => {
  const sa = await core().readNamespacedServiceAccount({ namespace, name });
  return (sa.imagePullSecrets ?? []).map((entry) => entry.name);
};

/** kube-controller-manager creates it shortly after the namespace. */
const defaultServiceAccount = (namespace: string) =>
  eventually(
    `ServiceAccount ${namespace}/default`,
    () => core().readNamespacedServiceAccount({ namespace, name: "default" }).catch(ignoreNotFound),
    WAIT_MS,
  );

async function createPod(namespace: string, name: string, labels: Record<string, string>): Promise<void> {
  // Nothing runs it: there is no scheduler or kubelet. The object is all a withPods selector sees.
  await core().createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: "app", image: "example.invalid/app" }],
      },
    },
  });
}

const deletePod = (namespace: string, name: string) =>
  core().deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }).catch(ignoreNotFound);

test("a new namespace matching by label gets the placeholder, filled with what is offered there; relabelled away, it is removed", async (t) => {
  const prefix = uniquePrefix();
  const source = await testNamespace(t, "cp-src");
  await createSource(source, "creds", { "registry.example.com": cred("u", "p") });
  await createExport(t, source, "creds", { toNamespaceSelector: { matchLabels: { [prefix]: "yes" } } });
  const name = await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { selector: { matchLabels: { [prefix]: "yes" } } },
  });
  const app = await testNamespace(t, "cp-app", { labels: { [prefix]: "yes" } });

  await expectAuths(app, { "registry.example.com": cred("u", "p") }, "pull", WAIT_MS);
  const secret = await core().readNamespacedSecret({ namespace: app, name: "pull" });
  assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
  assert.ok(Object.hasOwn(secret.metadata?.annotations ?? {}, ANNOTATION_IMAGE_PULL_SECRET));
  assert.equal(secret.metadata?.labels?.[LABEL_CLUSTER_PLACEHOLDER], name);
  const { metadata } = await readClusterPlaceholder(name);
  assert.deepEqual(
    secret.metadata?.ownerReferences?.map((ref) => [ref.kind, ref.name, ref.uid]),
    [["ClusterPlaceholder", name, metadata.uid]],
  );
  const ready = await readUntil(
    "one namespace served",
    () => readClusterPlaceholder(name),
    (read) => read.status?.namespacesServed === 1,
    (last) => JSON.stringify(last?.status),
    WAIT_MS,
  );
  assert.equal(ready.status?.conditions?.find((c) => c.type === "Ready")?.reason, REASON_PROVISIONED);
  assert.equal(ready.status?.observedGeneration, metadata.generation);

  await setNamespaceLabels(app, { [prefix]: "no" });
  await expectNoSecret(app, "pull");
  await readUntil(
    "no namespace served",
    () => readClusterPlaceholder(name),
    (read) => read.status?.namespacesServed === 0,
    (last) => JSON.stringify(last?.status),
    WAIT_MS,
  );
  // Three status changes (0, 1, 0 namespaces served), one Ready reason: one Event.
  await quiescent(controller());
  const events = await eventsFor("default", "ClusterPlaceholder", name);
  assert.deepEqual(
    events.map((e) => [e.type, e.reason]),
    [["Normal", REASON_PROVISIONED]],
  );
});

test("a namespace gains a matching pod and gets the placeholder; it loses it when the last matching pod is deleted", async (t) => {
  const prefix = uniquePrefix();
  await createClusterPlaceholder(t, {
    secretName: "mesh-pull",
    namespaces: { withPods: { matchLabels: { [`${prefix}/inject`]: "true" } } },
  });
  const app = await testNamespace(t, "cp-pods");
  await createPod(app, "unrelated", { app: "x" });
  await createPod(app, "first", { [`${prefix}/inject`]: "true" });
  await createPod(app, "second", { [`${prefix}/inject`]: "true" });
  await expectSecret(app, "mesh-pull");

  await deletePod(app, "first");
  assert.ok(await readSecretIfAny(app, "mesh-pull"), "kept while one matching pod remains");
  await deletePod(app, "second");
  await expectNoSecret(app, "mesh-pull");
  await deletePod(app, "unrelated");
});

test("a Secret of that name that is not a placeholder is never touched, and status lists its namespace with SecretExists", async (t) => {
  const prefix = uniquePrefix();
  const app = await testNamespace(t, "cp-taken", { labels: { [prefix]: "yes" } });
  await createTypedSecret(app, "pull", "Opaque", { token: "keep-me" });
  const before = await core().readNamespacedSecret({ namespace: app, name: "pull" });
  const name = await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { selector: { matchLabels: { [prefix]: "yes" } } },
    serviceAccounts: ["default"],
  });
  await defaultServiceAccount(app);

  const reported = await expectReady(name, REASON_NAMESPACES_NOT_SERVED);
  assert.deepEqual(
    reported.status?.namespacesNotServed?.map((n) => [n.namespace, n.reason]),
    [[app, REASON_SECRET_EXISTS]],
  );
  await expectEvent("default", "ClusterPlaceholder", name, REASON_NAMESPACES_NOT_SERVED, "Warning");
  const after = await core().readNamespacedSecret({ namespace: app, name: "pull" });
  assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion, "never written");
  assert.deepEqual(decodedData(after.data), { token: "keep-me" });
  assert.deepEqual(await pullSecretsOf(app), [], "a Secret that is not ours is not put on ServiceAccounts");
});

test("a placeholder already at that name is filled but not taken over, and stays when the namespace stops matching", async (t) => {
  const prefix = uniquePrefix();
  const app = await testNamespace(t, "cp-own", { labels: { [prefix]: "yes" } });
  await core().createNamespacedSecret({
    namespace: app,
    body: {
      metadata: { name: "pull", annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": "{}" },
    },
  });
  const name = await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { selector: { matchLabels: { [prefix]: "yes" } } },
  });
  await expectReady(name, REASON_PROVISIONED);
  const kept = await core().readNamespacedSecret({ namespace: app, name: "pull" });
  assert.equal(kept.metadata?.labels?.[LABEL_CLUSTER_PLACEHOLDER], undefined);
  assert.equal(kept.metadata?.ownerReferences, undefined);
  await setNamespaceLabels(app, {});
  await readUntil(
    "no namespace served",
    () => readClusterPlaceholder(name),
    (read) => read.status?.namespacesServed === 0,
    (last) => JSON.stringify(last?.status),
    WAIT_MS,
  );
  assert.ok(await readSecretIfAny(app, "pull"), "a placeholder it did not create is never deleted");
});

test("the default ServiceAccount gets the entry, and loses only ours when the namespace stops matching", async (t) => {
  const prefix = uniquePrefix();
  const app = await testNamespace(t, "cp-sa", { labels: { [prefix]: "yes" } });
  await defaultServiceAccount(app);
  await core().patchNamespacedServiceAccount({
    namespace: app,
    name: "default",
    body: [{ op: "add", path: "/imagePullSecrets", value: [{ name: "theirs" }] }],
  });
  await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { selector: { matchLabels: { [prefix]: "yes" } } },
    serviceAccounts: ["default", "builder"],
  });
  await readUntil(
    "default lists ours after theirs",
    () => pullSecretsOf(app),
    (names) => names.join() === "theirs,pull",
    (last) => `last ${JSON.stringify(last)}`,
    WAIT_MS,
  );
  const sa = await core().readNamespacedServiceAccount({ namespace: app, name: "default" });
  assert.ok(sa.metadata?.annotations?.[ANNOTATION_ADDED_PULL_SECRETS]?.includes('"pull"'));

  // A ServiceAccount created later gets it too.
  await core().createNamespacedServiceAccount({ namespace: app, body: { metadata: { name: "builder" } } });
  await readUntil(
    "builder gets ours",
    () => pullSecretsOf(app, "builder"),
    (names) => names.join() === "pull",
    (last) => `last ${JSON.stringify(last)}`,
    WAIT_MS,
  );

  await setNamespaceLabels(app, {});
  await readUntil(
    "default keeps only theirs",
    () => pullSecretsOf(app),
    (names) => names.join() === "theirs",
    (last) => `last ${JSON.stringify(last)}`,
    WAIT_MS,
  );
  await readUntil(
    "builder has none",
    () => pullSecretsOf(app, "builder"),
    (names) => names.length === 0,
    (last) => `last ${JSON.stringify(last)}`,
    WAIT_MS,
  );
});

test("deleting the ClusterPlaceholder removes everything it made and nothing else", async (t) => {
  const prefix = uniquePrefix();
  const served = await testNamespace(t, `${prefix}-a`);
  const other = await testNamespace(t, `${prefix}-b`);
  await defaultServiceAccount(served);
  await defaultServiceAccount(other);
  await core().patchNamespacedServiceAccount({
    namespace: served,
    name: "default",
    body: [{ op: "add", path: "/imagePullSecrets", value: [{ name: "theirs" }] }],
  });
  // The other namespace has a placeholder of that name that someone else made.
  await core().createNamespacedSecret({
    namespace: other,
    body: {
      metadata: { name: "pull", annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": "{}" },
    },
  });
  const name = await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { names: [`${prefix}-*`] },
    serviceAccounts: ["default"],
  });
  await expectSecret(served, "pull");
  await readUntil(
    "both defaults list ours",
    async () => [await pullSecretsOf(served), await pullSecretsOf(other)],
    ([a, b]) => a?.join() === "theirs,pull" && b?.join() === "pull",
    (last) => `last ${JSON.stringify(last)}`,
    WAIT_MS,
  );

  await deleteClusterPlaceholder(name);
  await expectNoSecret(served, "pull");
  await readUntil(
    "only ours removed from the ServiceAccounts",
    async () => [await pullSecretsOf(served), await pullSecretsOf(other)],
    ([a, b]) => a?.join() === "theirs" && b?.length === 0,
    (last) => `last ${JSON.stringify(last)}`,
    WAIT_MS,
  );
  assert.ok(await readSecretIfAny(other, "pull"), "the placeholder it did not create stays");
  const sa = await core().readNamespacedServiceAccount({ namespace: served, name: "default" });
  assert.equal(
    sa.metadata?.annotations?.[ANNOTATION_ADDED_PULL_SECRETS],
    undefined,
    "its record is gone too",
  );
});

test("explain -n N says which ClusterPlaceholders match N and why, and why the others do not", async (t) => {
  const prefix = uniquePrefix();
  const app = await testNamespace(t, "cp-explain", { labels: { [prefix]: "yes" } });
  const byLabel = await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { selector: { matchLabels: { [prefix]: "yes" } } },
  });
  const byPods = await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { withPods: { matchLabels: { [prefix]: "yes" } } },
  });
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["src/cli.ts", "explain", "--kubeconfig", process.env.SEC_E2E_KUBECONFIG ?? "", "-n", app, "-o", "json"],
    { cwd: resolve(import.meta.dirname, ".."), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const listed = (JSON.parse(stdout) as { clusterPlaceholders: ClusterPlaceholderExplanation[] })
    .clusterPlaceholders;
  const of = (name: string) => listed.find((c) => c.name === name);
  assert.deepEqual(of(byLabel)?.reasons, [`its labels match spec.namespaces.selector ${prefix}=yes`]);
  assert.equal(of(byLabel)?.matches, true);
  assert.deepEqual(of(byPods)?.reasons, [`no pod there matches spec.namespaces.withPods ${prefix}=yes`]);
  assert.equal(of(byPods)?.matches, false);
});

test("an invalid spec is reported in status naming the field, and what the ClusterPlaceholder made stays", async (t) => {
  const prefix = uniquePrefix();
  const app = await testNamespace(t, "cp-invalid", { labels: { [prefix]: "yes" } });
  const name = await createClusterPlaceholder(t, {
    secretName: "pull",
    namespaces: { selector: { matchLabels: { [prefix]: "yes" } } },
  });
  const made = await expectSecret(app, "pull");
  await custom().patchClusterCustomObject({
    group: OWN_GROUP,
    version: VERSION,
    plural: CLUSTER_PLACEHOLDER_PLURAL,
    name,
    body: [{ op: "replace", path: "/spec/namespaces", value: { names: ["[b-a]"] } }],
  });
  const invalid = await expectReady(name, REASON_INVALID_SPEC);
  const ready = invalid.status?.conditions?.find((c) => c.type === "Ready") as
    { message?: string } | undefined;
  assert.match(ready?.message ?? "", /spec\.namespaces\.names\[0\]: "\[b-a\]" is not a valid glob/);
  await expectEvent("default", "ClusterPlaceholder", name, EVENT_CLUSTER_PLACEHOLDER_INVALID, "Warning");
  const kept = await core().readNamespacedSecret({ namespace: app, name: "pull" });
  assert.equal(kept.metadata?.uid, made.metadata?.uid, "bad input never removes a placeholder");
});
