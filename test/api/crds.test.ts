import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { clusterPlaceholderCrd, crdFiles, secretExportCrd, secretImportCrd } from "../../src/api/crds.ts";
import type { StructuralSchema } from "../../src/api/structural-schema.ts";

const committed = (name: string) => readFileSync(new URL(`../../crds/${name}`, import.meta.url), "utf8");

test("the committed CRDs are generated from the zod schemas (run `npm run crds` after changing them)", () => {
  const files = crdFiles();
  assert.deepEqual(
    files.map((file) => file.name),
    ["secretexports.yaml", "secretimports.yaml", "clusterplaceholders.yaml", "registrycredentials.yaml"],
  );
  for (const { name, content } of files) {
    assert.ok(committed(name) === content, `crds/${name} is stale: run \`npm run crds\``);
  }
});

function version(crd: ReturnType<typeof secretExportCrd>) {
  const [only] = crd.spec.versions;
  assert.ok(only);
  return only;
}
const openApi = (crd: ReturnType<typeof secretExportCrd>) => version(crd).schema.openAPIV3Schema;

for (const [crd, kind, plural] of [
  [secretExportCrd(), "SecretExport", "secretexports"],
  [secretImportCrd(), "SecretImport", "secretimports"],
] as const) {
  test(`${kind}: names, group, version, scope and status subresource are carvel's`, () => {
    assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
    assert.equal(crd.metadata.name, `${plural}.secretgen.carvel.dev`);
    assert.equal(crd.spec.group, "secretgen.carvel.dev");
    assert.deepEqual(crd.spec.names, {
      kind,
      listKind: `${kind}List`,
      plural,
      singular: kind.toLowerCase(),
    });
    assert.equal(crd.spec.scope, "Namespaced");
    assert.equal(crd.spec.versions.length, 1);
    assert.equal(version(crd).name, "v1alpha1");
    assert.equal(version(crd).served, true);
    assert.equal(version(crd).storage, true);
    assert.deepEqual(version(crd).subresources, { status: {} });
  });

  test(`${kind}: spec is required at the top level, status is not`, () => {
    assert.deepEqual(openApi(crd).required, ["spec"]);
  });

  test(`${kind}: every schema node has one type, and properties never sit next to additionalProperties`, () => {
    for (const [path, node] of nodes(openApi(crd))) {
      assert.equal(typeof node.type, "string", `${path} has no type`);
      assert.ok(!(node.properties && node.additionalProperties), `${path} has both`);
      assert.ok(!("$schema" in node), `${path} has $schema`);
    }
  });

  test(`${kind}: Ready, Description (carvel's) and Age are printer columns`, () => {
    const columns = version(crd).additionalPrinterColumns;
    const byName = new Map(columns.map((column) => [column.name, column]));
    assert.equal(byName.get("Ready")?.jsonPath, '.status.conditions[?(@.type=="Ready")].status');
    assert.deepEqual(byName.get("Description"), {
      name: "Description",
      type: "string",
      jsonPath: ".status.friendlyDescription",
      description: "Friendly description",
    });
    assert.deepEqual(byName.get("Age"), {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation",
    });
    assert.equal(columns.at(-1)?.name, "Age");
  });
}

test("SecretExport: a Namespaces column shows how many namespaces the export reaches", () => {
  const column = version(secretExportCrd()).additionalPrinterColumns.find((c) => c.name === "Namespaces");
  assert.equal(column?.jsonPath, ".status.namespacesReached");
  assert.equal(column?.type, "integer");
  assert.deepEqual(status(secretExportCrd()).namespacesReached, {
    type: "integer",
    format: "int64",
    minimum: 0,
    description: "How many namespaces the export reaches.",
  });
});

test("SecretExport: dangerousToNamespacesSelector entries need key and a known operator, as in carvel's CRD", () => {
  const entry = spec(secretExportCrd()).dangerousToNamespacesSelector?.items;
  assert.deepEqual(entry?.required, ["key", "operator"]);
  assert.deepEqual(entry?.properties?.operator?.enum, ["In", "NotIn", "Exists", "DoesNotExist"]);
  assert.deepEqual(entry?.properties?.values, {
    type: "array",
    items: { type: "string" },
    description: "The values for In and NotIn; none for the others.",
  });
  // carvel applies In without values and reports it in status; so must we.
  assert.equal(entry?.["x-kubernetes-validations"], undefined);
});

test("SecretExport: no destination is required at apply time, carvel reports that in status", () => {
  const exportSpec = openApi(secretExportCrd()).properties.spec;
  assert.equal(exportSpec.required, undefined);
  assert.deepEqual(Object.keys(exportSpec.properties ?? {}), [
    "toNamespace",
    "toNamespaces",
    "dangerousToNamespacesSelector",
    "toNamespaceSelector",
  ]);
});

test("SecretExport: toNamespaceSelector is a label selector whose expressions must fit their operator", () => {
  const selector = spec(secretExportCrd()).toNamespaceSelector;
  assert.deepEqual(selector?.properties?.matchLabels, {
    type: "object",
    additionalProperties: { type: "string" },
  });
  const expression = selector?.properties?.matchExpressions?.items;
  assert.deepEqual(expression?.required, ["key", "operator"]);
  assert.deepEqual(expression?.["x-kubernetes-validations"], [
    {
      rule: "self.operator in ['In', 'NotIn'] == (has(self.values) && size(self.values) > 0)",
      message: "values must be non-empty when operator is In or NotIn, and empty otherwise",
    },
  ]);
});

test("SecretImport: fromNamespace is optional at apply time, so carvel YAML without it still applies", () => {
  const importSpec = openApi(secretImportCrd()).properties.spec;
  assert.equal(importSpec.required, undefined);
  assert.equal(importSpec.properties?.fromNamespace?.type, "string");
  assert.equal(importSpec.properties?.fromNamespace?.minLength, undefined);
});

test("no status field is required, as in carvel's CRD, so statuses carvel wrote stay valid", () => {
  for (const crd of [secretExportCrd(), secretImportCrd(), clusterPlaceholderCrd()]) {
    assert.equal(openApi(crd).properties.status.required, undefined);
  }
});

test("status conditions are typed like metav1.Condition, carvel's fields included", () => {
  const condition = status(secretImportCrd()).conditions?.items;
  assert.deepEqual(condition?.required, ["type", "status"]);
  assert.deepEqual(condition?.properties?.status?.enum, ["True", "False", "Unknown"]);
  assert.deepEqual(condition?.properties?.lastTransitionTime, { type: "string", format: "date-time" });
  assert.deepEqual(Object.keys(condition?.properties ?? {}), [
    "type",
    "status",
    "reason",
    "message",
    "lastTransitionTime",
    "observedGeneration",
  ]);
});

test("ClusterPlaceholder: cluster-scoped, in our own group secret-export.dev, with a status subresource", () => {
  const crd = clusterPlaceholderCrd();
  assert.equal(crd.metadata.name, "clusterplaceholders.secret-export.dev");
  assert.equal(crd.spec.group, "secret-export.dev");
  assert.equal(crd.spec.scope, "Cluster");
  assert.deepEqual(crd.spec.names, {
    kind: "ClusterPlaceholder",
    listKind: "ClusterPlaceholderList",
    plural: "clusterplaceholders",
    singular: "clusterplaceholder",
  });
  assert.equal(version(crd).name, "v1alpha1");
  assert.deepEqual(version(crd).subresources, { status: {} });
});

test("ClusterPlaceholder: printer columns Ready, Namespaces (served) and Age", () => {
  const columns = version(clusterPlaceholderCrd()).additionalPrinterColumns;
  assert.deepEqual(
    columns.map((c) => [c.name, c.jsonPath]),
    [
      ["Ready", '.status.conditions[?(@.type=="Ready")].status'],
      ["Namespaces", ".status.namespacesServed"],
      ["Age", ".metadata.creationTimestamp"],
    ],
  );
});

test("ClusterPlaceholder: secretName is required and non-empty; the namespace conditions are all optional", () => {
  const cpSpec = openApi(clusterPlaceholderCrd()).properties.spec;
  assert.deepEqual(cpSpec.required, ["secretName", "namespaces"]);
  assert.equal(cpSpec.properties?.secretName?.minLength, 1);
  const namespaces = cpSpec.properties?.namespaces;
  assert.equal(namespaces?.required, undefined);
  assert.deepEqual(Object.keys(namespaces?.properties ?? {}), [
    "names",
    "selector",
    "annotations",
    "withPods",
  ]);
  assert.deepEqual(cpSpec.properties?.serviceAccounts, {
    type: "array",
    items: { type: "string" },
    description: "ServiceAccounts in each matching namespace whose imagePullSecrets get the placeholder.",
  });
});

test("the YAML is written in wire format, never with client-node's model names", () => {
  for (const { content } of crdFiles()) {
    assert.doesNotMatch(content, /_enum|x_kubernetes|openApiV3Schema|\$schema/);
    assert.match(content, /x-kubernetes-validations:|fromNamespace:/);
  }
});

function spec(crd: ReturnType<typeof secretExportCrd>): Record<string, StructuralSchema> {
  return openApi(crd).properties.spec.properties ?? {};
}

function status(crd: ReturnType<typeof secretExportCrd>): Record<string, StructuralSchema> {
  return openApi(crd).properties.status.properties ?? {};
}

function* nodes(node: StructuralSchema, path = "schema"): Generator<[string, StructuralSchema]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {})) yield* nodes(child, `${path}.${name}`);
  if (node.items) yield* nodes(node.items, `${path}[]`);
  if (node.additionalProperties) yield* nodes(node.additionalProperties, `${path}{}`);
}
