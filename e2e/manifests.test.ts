// What a platform team installs, checked against the real API server: config/ builds with kustomize
// and is accepted by `kubectl apply --dry-run=server -k config/`, so is every file in examples/, the
// RBAC grants exactly what the controller uses (SubjectAccessReviews), and the controller does its
// work under that ServiceAccount alone.
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { before, test } from "node:test";
import {
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  loadAllYaml,
  type V1ClusterRole,
  type V1Deployment,
  type V1NetworkPolicy,
  type V1PodDisruptionBudget,
  type V1PolicyRule,
  type V1Role,
  type V1Service,
} from "@kubernetes/client-node";
import { adminKubeConfig, eventually, ignoreNotFound, testNamespace } from "./support/cluster.ts";
import { installCrds } from "./support/controller.ts";
import { startControllerProcess } from "./support/controller-process.ts";
import {
  createExport,
  createImport,
  createPlaceholder,
  createSource,
  createTypedSecret,
  cred,
  decodedData,
  expectAuths,
  expectImportReason,
  expectReadyReason,
  readSecretIfAny,
} from "./support/fixtures.ts";
import {
  CONTROLLER_NAMESPACE,
  CONTROLLER_USER,
  applyControllerRbac,
  controllerKubeConfigFile,
  kubectl,
} from "./support/rbac.ts";

const root = resolve(import.meta.dirname, "..");

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The objects of a YAML stream as plain JSON values (loadAllYaml builds class instances). */
const yamlDocuments = (text: string): KubeObject[] =>
  (JSON.parse(JSON.stringify(loadAllYaml(text))) as (KubeObject | null)[]).filter((o) => o !== null);
const rendered = async () => yamlDocuments(await kubectl("kustomize", "config/"));
const one = <T>(objects: KubeObject[], kind: string, name?: string): T => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ""} in config/`);
  return found[0] as T;
};

before(async () => {
  await installCrds();
  // Namespaced objects of a server-side dry run need their namespace to exist for real.
  await applyControllerRbac();
});

test("config/ builds with kustomize and carries every CRD of crds/ unchanged, in kapp's change group", async () => {
  const objects = await rendered();
  const crdFiles = (await readdir(join(root, "crds"))).filter((f) => f.endsWith(".yaml"));
  const generated = (
    await Promise.all(crdFiles.map(async (f) => yamlDocuments(await readFile(join(root, "crds", f), "utf8"))))
  ).flat();
  const shipped = objects.filter((o) => o.kind === "CustomResourceDefinition");
  assert.deepEqual(
    shipped.map((o) => o.metadata.name).sort(),
    generated.map((o) => o.metadata.name).sort(),
    "crds/Kustomization lists every file of crds/",
  );
  for (const crd of generated) {
    const built = shipped.find((o) => o.metadata.name === crd.metadata.name);
    assert.deepEqual(built?.spec, crd.spec, `${crd.metadata.name}: config/ ships the generated spec`);
    assert.equal(built?.metadata.annotations?.["kapp.k14s.io/change-group"], "secret-export-controller/crds");
  }
  const deployment = one<V1Deployment>(objects, "Deployment");
  const annotations = Object.values(deployment.metadata?.annotations ?? {});
  assert.ok(annotations.includes("upsert after upserting secret-export-controller/crds"));
  assert.ok(annotations.includes("delete before deleting secret-export-controller/crds"));
  assert.deepEqual(
    objects.slice(0, 1 + shipped.length).map((o) => o.kind),
    ["Namespace", ...shipped.map(() => "CustomResourceDefinition")],
    "kubectl applies the Namespace and the CRDs before anything else",
  );
});

test("kubectl apply --dry-run=server -k config/ is accepted by the API server", async () => {
  const out = await kubectl("apply", "--dry-run=server", "-k", "config/");
  for (const expected of [
    /customresourcedefinition.apiextensions.k8s.io\/secretexports.secretgen.carvel.dev \w+ \(server dry run\)/,
    /clusterrole.rbac.authorization.k8s.io\/secret-export-controller \w+ \(server dry run\)/,
    /deployment.apps\/secret-export-controller \w+ \(server dry run\)/,
    /service\/secret-export-controller-metrics \w+ \(server dry run\)/,
    /poddisruptionbudget.policy\/secret-export-controller \w+ \(server dry run\)/,
    /networkpolicy.networking.k8s.io\/secret-export-controller-metrics \w+ \(server dry run\)/,
  ]) {
    assert.match(out, expected);
  }
});

test("every file in examples/ is accepted by the API server (server-side dry run)", async (t) => {
  const files = (await readdir(join(root, "examples"))).filter((f) => /\.ya?ml$/.test(f)).sort();
  assert.ok(files.length > 0);
  // A dry-run Namespace is not there for the dry-run objects inside it: create the examples'
  // namespaces for real first (those that do not exist yet), and delete them afterwards.
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  for (const file of files) {
    const namespaces = yamlDocuments(await readFile(join(root, "examples", file), "utf8")).filter(
      (o) => o.kind === "Namespace",
    );
    for (const namespace of namespaces) {
      const { name } = namespace.metadata;
      if (await core.readNamespace({ name }).catch(ignoreNotFound)) continue;
      await core.createNamespace({ body: namespace });
      t.after(() => core.deleteNamespace({ name }).catch(ignoreNotFound));
    }
  }
  for (const file of files) {
    const out = await kubectl("apply", "--dry-run=server", "-f", join("examples", file));
    assert.match(out, /\(server dry run\)/, file);
  }
});

test("the ClusterRole and Role grant exactly what the controller uses, and never '*'", async () => {
  const objects = await rendered();
  const clusterRole = one<V1ClusterRole>(objects, "ClusterRole");
  const role = one<V1Role>(objects, "Role");
  for (const rule of [...(clusterRole.rules ?? []), ...(role.rules ?? [])]) {
    for (const value of [
      ...(rule.apiGroups ?? []),
      ...(rule.resources ?? []),
      ...rule.verbs,
      ...(rule.resourceNames ?? []),
    ]) {
      assert.ok(!value.includes("*"), `no wildcard: ${JSON.stringify(rule)}`);
    }
    assert.equal(rule.nonResourceURLs, undefined);
  }
  const table = (rules: V1PolicyRule[] = []) =>
    rules
      .flatMap((r) =>
        (r.apiGroups ?? []).flatMap((g) =>
          (r.resources ?? []).map((res) => `${g}/${res}: ${[...r.verbs].sort().join(",")}`),
        ),
      )
      .sort();
  assert.deepEqual(table(clusterRole.rules), [
    "/events: create",
    "/namespaces: list,watch",
    "/pods: list,watch",
    "/secrets: create,delete,get,list,patch,watch",
    "/serviceaccounts: list,patch,watch",
    "secret-export.dev/clusterplaceholders/status: patch",
    "secret-export.dev/clusterplaceholders: list,watch",
    "secret-export.dev/registrycredentials/finalizers: update",
    "secret-export.dev/registrycredentials/status: patch",
    "secret-export.dev/registrycredentials: list,watch",
    "secretgen.carvel.dev/secretexports/status: patch",
    "secretgen.carvel.dev/secretexports: list,watch",
    "secretgen.carvel.dev/secretimports/finalizers: update",
    "secretgen.carvel.dev/secretimports/status: patch",
    "secretgen.carvel.dev/secretimports: list,watch",
  ]);
  assert.deepEqual(table(role.rules), [
    "coordination.k8s.io/leases: create",
    "coordination.k8s.io/leases: get,update",
  ]);
  assert.deepEqual(
    role.rules?.map((r) => r.resourceNames),
    [undefined, ["secret-export-controller"]],
    "get and update only the controller's own Lease; create cannot be scoped",
  );
  assert.equal(role.metadata?.namespace, CONTROLLER_NAMESPACE);
  for (const kind of ["ClusterRoleBinding", "RoleBinding"]) {
    const binding = one<{ subjects: { kind: string; name: string; namespace: string }[] }>(objects, kind);
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: "secret-export-controller", namespace: CONTROLLER_NAMESPACE },
    ]);
  }
});

test("the API server allows the controller's ServiceAccount exactly that (SubjectAccessReviews)", async () => {
  const authz = adminKubeConfig().makeApiClient(AuthorizationV1Api);
  const can = async (
    verb: string,
    resource: string,
    namespace = "",
    group = "",
    subresource = "",
    name = "",
  ) => {
    const review = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: CONTROLLER_USER,
          groups: [
            "system:serviceaccounts",
            `system:serviceaccounts:${CONTROLLER_NAMESPACE}`,
            "system:authenticated",
          ],
          resourceAttributes: { verb, resource, namespace, group, subresource, name },
        },
      },
    });
    return review.status?.allowed === true;
  };
  const allowed: Parameters<typeof can>[] = [
    ["list", "namespaces"],
    ["watch", "namespaces"],
    ["list", "secretexports", "", "secretgen.carvel.dev"],
    ["watch", "secretimports", "", "secretgen.carvel.dev"],
    ["patch", "secretexports", "team-a", "secretgen.carvel.dev", "status"],
    ["patch", "secretimports", "team-a", "secretgen.carvel.dev", "status"],
    ["update", "secretimports", "team-a", "secretgen.carvel.dev", "finalizers"],
    ["list", "secrets"],
    ["watch", "secrets"],
    ["get", "secrets", "team-a"],
    ["create", "secrets", "team-a"],
    ["patch", "secrets", "team-a"],
    ["delete", "secrets", "team-a"],
    ["create", "events", "team-a"],
    ["list", "clusterplaceholders", "", "secret-export.dev"],
    ["watch", "clusterplaceholders", "", "secret-export.dev"],
    ["patch", "clusterplaceholders", "", "secret-export.dev", "status"],
    ["list", "pods"],
    ["watch", "pods"],
    ["list", "serviceaccounts"],
    ["watch", "serviceaccounts"],
    ["patch", "serviceaccounts", "team-a"],
    ["get", "leases", CONTROLLER_NAMESPACE, "coordination.k8s.io", "", "secret-export-controller"],
    ["create", "leases", CONTROLLER_NAMESPACE, "coordination.k8s.io"],
    ["update", "leases", CONTROLLER_NAMESPACE, "coordination.k8s.io", "", "secret-export-controller"],
  ];
  const denied: Parameters<typeof can>[] = [
    ["update", "secrets", "team-a"],
    ["deletecollection", "secrets", "team-a"],
    ["get", "namespaces"],
    ["create", "namespaces"],
    ["delete", "namespaces"],
    ["patch", "namespaces"],
    ["create", "secretexports", "team-a", "secretgen.carvel.dev"],
    ["patch", "secretexports", "team-a", "secretgen.carvel.dev"],
    ["delete", "secretimports", "team-a", "secretgen.carvel.dev"],
    ["get", "secretexports", "team-a", "secretgen.carvel.dev"],
    ["update", "secretexports", "team-a", "secretgen.carvel.dev", "status"],
    ["update", "secretexports", "team-a", "secretgen.carvel.dev", "finalizers"],
    ["patch", "events", "team-a"],
    ["create", "events", "team-a", "events.k8s.io"],
    ["get", "leases", CONTROLLER_NAMESPACE, "coordination.k8s.io", "", "another-lease"],
    ["update", "leases", CONTROLLER_NAMESPACE, "coordination.k8s.io", "", "another-lease"],
    ["get", "leases", "kube-system", "coordination.k8s.io"],
    ["update", "leases", "kube-system", "coordination.k8s.io"],
    ["delete", "leases", CONTROLLER_NAMESPACE, "coordination.k8s.io"],
    ["patch", "leases", CONTROLLER_NAMESPACE, "coordination.k8s.io"],
    ["list", "configmaps"],
    ["get", "pods", "team-a"],
    ["patch", "pods", "team-a"],
    ["create", "serviceaccounts", "team-a", "", "token"],
    ["create", "serviceaccounts", "team-a"],
    ["update", "serviceaccounts", "team-a"],
    ["delete", "serviceaccounts", "team-a"],
    ["patch", "clusterplaceholders", "", "secret-export.dev"],
    ["update", "clusterplaceholders", "", "secret-export.dev", "status"],
    ["update", "customresourcedefinitions", "", "apiextensions.k8s.io"],
    ["bind", "clusterroles", "", "rbac.authorization.k8s.io"],
    ["escalate", "clusterroles", "", "rbac.authorization.k8s.io"],
  ];
  for (const attributes of allowed) assert.ok(await can(...attributes), `allowed: ${attributes.join(" ")}`);
  for (const attributes of denied) assert.ok(!(await can(...attributes)), `denied: ${attributes.join(" ")}`);
});

test("under its ServiceAccount alone the controller fills placeholders, copies imports, records Events and holds the Lease", async (t) => {
  const kubeconfig = await controllerKubeConfigFile();
  // The Role grants get and update on this Lease name only.
  const leaseName = "secret-export-controller";
  const controller = startControllerProcess(
    ["--kubeconfig", kubeconfig, "--leader-election-id", leaseName, "--log-level", "debug"],
    { POD_NAMESPACE: CONTROLLER_NAMESPACE },
  );
  t.after(() => controller.stop());

  const source = await testNamespace(t, "rbac-src");
  const app = await testNamespace(t, "rbac-app");
  await createSource(source, "creds", { "rbac.example.com": cred("rbac-user", "rbac-pw") });
  await createExport(t, source, "creds", { toNamespace: app });
  await createPlaceholder(app);
  await createTypedSecret(source, "opaque", "Opaque", { token: "rbac-token" });
  await createExport(t, source, "opaque", { toNamespace: app });
  await createImport(t, app, "opaque", source);

  await expectAuths(app, { "rbac.example.com": cred("rbac-user", "rbac-pw") });
  await expectReadyReason(source, "creds", "Exported");
  await expectImportReason(app, "opaque", "Imported");
  assert.deepEqual(decodedData((await readSecretIfAny(app, "opaque"))?.data), { token: "rbac-token" });
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  await eventually("an Event recorded by the controller", async () => {
    const events = await core.listNamespacedEvent({ namespace: app });
    return events.items.some((e) => e.reportingComponent === "secret-export-controller") ? true : undefined;
  });
  const leases = adminKubeConfig().makeApiClient(CoordinationV1Api);
  const lease = await leases.readNamespacedLease({ namespace: CONTROLLER_NAMESPACE, name: leaseName });
  // The pod name plus a random suffix: two processes with one name never both hold the Lease.
  assert.match(lease.spec?.holderIdentity ?? "", new RegExp(`^${controller.identity}_[0-9a-f-]{36}$`));

  controller.child.kill("SIGTERM");
  assert.equal(await controller.exited, 0, "SIGTERM ends the process with 0");
  const released = await leases.readNamespacedLease({ namespace: CONTROLLER_NAMESPACE, name: leaseName });
  assert.equal(released.spec?.holderIdentity ?? "", "", "the Lease is released on shutdown");
  await eventually("the whole log written", async () =>
    (await controller.log()).includes('"msg":"stopped"') ? true : undefined,
  );
  const log = await controller.log();
  // (Writes into a namespace being deleted are refused too, by admission: "forbidden: unable to create".)
  assert.doesNotMatch(log, /forbidden: User /, "RBAC refused no request");
});

test("the NetworkPolicy admits to the HTTP port only namespaces labelled as metrics scrapers", async () => {
  const objects = await rendered();
  const policy = one<V1NetworkPolicy>(objects, "NetworkPolicy");
  const pod = one<V1Deployment>(objects, "Deployment").spec?.template.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(policy.spec?.podSelector?.matchLabels ?? {})) {
    assert.equal(pod[key], value, "it selects the controller's Pods");
  }
  assert.deepEqual(policy.spec?.policyTypes, ["Ingress"]);
  assert.deepEqual(policy.spec?.ingress, [
    {
      // client-node's model spells `from` so.
      _from: [{ namespaceSelector: { matchLabels: { "secret-export-controller/metrics-scraper": "true" } } }],
      ports: [{ port: "http", protocol: "TCP" }],
    },
  ]);
});

test("the Deployment, Service and PodDisruptionBudget are wired and hardened as documented", async () => {
  const objects = await rendered();
  const deployment = one<V1Deployment>(objects, "Deployment");
  const pod = deployment.spec?.template;
  const podSpec = pod?.spec;
  const container = podSpec?.containers[0];
  assert.equal(deployment.spec?.replicas, 2);
  assert.equal(podSpec?.containers.length, 1);
  assert.equal(podSpec?.serviceAccountName, "secret-export-controller");
  assert.equal(podSpec?.automountServiceAccountToken, true);
  assert.equal(podSpec?.terminationGracePeriodSeconds, 30);
  assert.ok(podSpec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length);
  assert.deepEqual(container?.args, ["run"]);
  assert.match(container?.image ?? "", /\/secret-export-controller:/);
  assert.equal(container?.livenessProbe?.httpGet?.path, "/healthz");
  assert.equal(container?.readinessProbe?.httpGet?.path, "/readyz");
  assert.equal(container?.livenessProbe?.httpGet?.port, "http");
  assert.deepEqual(container?.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
  assert.deepEqual(container?.resources, {
    requests: { cpu: "50m", memory: "128Mi" },
    limits: { memory: "256Mi" },
  });
  const env = Object.fromEntries(
    (container?.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath ?? e.value]),
  );
  assert.equal(env.POD_NAMESPACE, "metadata.namespace");
  assert.equal(env.POD_NAME, "metadata.name");
  assert.deepEqual(container?.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
  assert.equal(podSpec?.securityContext?.runAsNonRoot, true);
  assert.equal(podSpec?.securityContext?.seccompProfile?.type, "RuntimeDefault");

  const podLabels = pod?.metadata?.labels ?? {};
  const selects = (selector: Record<string, string> = {}) =>
    Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  const service = one<V1Service>(objects, "Service");
  assert.ok(selects(service.spec?.selector), "the metrics Service selects the controller's pods");
  assert.deepEqual(
    service.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]),
    [["http-metrics", 8080, "http"]],
  );
  const pdb = one<V1PodDisruptionBudget>(objects, "PodDisruptionBudget");
  assert.ok(
    selects(pdb.spec?.selector?.matchLabels),
    "the PodDisruptionBudget selects the controller's pods",
  );
  assert.equal(pdb.spec?.maxUnavailable, 1);
  for (const object of objects) {
    if (!["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"].includes(object.kind))
      assert.equal(object.metadata.namespace, CONTROLLER_NAMESPACE, `${object.kind} ${object.metadata.name}`);
  }
});
