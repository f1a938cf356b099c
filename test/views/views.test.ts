import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ANNOTATION_IMAGE_PULL_SECRET, ANNOTATION_WEIGHT } from "../../src/constants.ts";
import { exportEntry, namespaceView, secretMetadataView } from "../../src/views/views.ts";
import type { KubeObject } from "../../src/runtime/kube-http.ts";

const MANAGED_FIELDS = [{ manager: "kubectl", operation: "Apply", fieldsV1: { "f:metadata": {} } }];

function namespace(metadata: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "team-a", uid: "ns-uid", managedFields: MANAGED_FIELDS, ...metadata },
    spec: { finalizers: ["kubernetes"] },
    ...(status === undefined ? {} : { status }),
  };
}

function secretExport(
  overrides: { metadata?: Record<string, unknown>; spec?: unknown; status?: unknown } = {},
) {
  return {
    apiVersion: "secretgen.carvel.dev/v1alpha1",
    kind: "SecretExport",
    metadata: {
      name: "creds",
      namespace: "infra",
      uid: "export-uid",
      generation: 3,
      resourceVersion: "100",
      annotations: { [ANNOTATION_WEIGHT]: "1" },
      ...overrides.metadata,
    },
    spec: overrides.spec ?? { toNamespaces: ["team-*", "ops"] },
    status: overrides.status ?? { observedGeneration: 3 },
  } as KubeObject;
}

describe("namespaceView", () => {
  test("marks a namespace with a deletionTimestamp or in phase Terminating as terminating", () => {
    const rows: [name: string, object: KubeObject, terminating: boolean][] = [
      ["active", namespace({}, { phase: "Active" }), false],
      ["no status", namespace({}), false],
      [
        "deletionTimestamp",
        namespace({ deletionTimestamp: "2024-01-01T00:00:00Z" }, { phase: "Active" }),
        true,
      ],
      ["phase Terminating", namespace({}, { phase: "Terminating" }), true],
      ["both", namespace({ deletionTimestamp: "2024-01-01T00:00:00Z" }, { phase: "Terminating" }), true],
    ];
    for (const [name, object, terminating] of rows)
      assert.equal(namespaceView(object).terminating, terminating, name);
  });

  test("keeps name, labels and annotations, and the object JSONPath keys read without managedFields", () => {
    const labels = { team: "a" };
    const annotations = { "field.cattle.io/projectId": "p-1" };
    const view = namespaceView(namespace({ labels, annotations }, { phase: "Active" }));
    assert.deepEqual(view, {
      name: "team-a",
      labels,
      annotations,
      terminating: false,
      object: {
        metadata: { name: "team-a", uid: "ns-uid", labels, annotations },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      },
    });
  });

  test("reads missing labels, annotations, spec and status as empty", () => {
    const view = namespaceView({ metadata: { name: "bare" } });
    assert.deepEqual(view, {
      name: "bare",
      labels: {},
      annotations: {},
      terminating: false,
      object: { metadata: { name: "bare" }, spec: {}, status: {} },
    });
  });
});

describe("exportEntry", () => {
  test("ignores an export being deleted or without a namespace", () => {
    assert.equal(
      exportEntry(secretExport({ metadata: { deletionTimestamp: "2024-01-01T00:00:00Z" } })),
      undefined,
    );
    assert.equal(exportEntry(secretExport({ metadata: { namespace: undefined } })), undefined);
  });

  test("keeps identity, generation, the parsed spec and the status", () => {
    const entry = exportEntry(secretExport());
    assert.ok(entry !== undefined);
    assert.equal(entry.namespace, "infra");
    assert.equal(entry.name, "creds");
    assert.equal(entry.uid, "export-uid");
    assert.equal(entry.resourceVersion, "100");
    assert.equal(entry.generation, 3);
    assert.deepEqual(entry.spec, { toNamespaces: ["team-*", "ops"] });
    assert.deepEqual(entry.status, { observedGeneration: 3 });
    assert.equal(entry.destinations.ok, true);
  });

  test("parses the weight annotation; absent or unparsable weighs 0", () => {
    const rows: [annotations: Record<string, string> | undefined, weight: number][] = [
      [undefined, 0],
      [{}, 0],
      [{ [ANNOTATION_WEIGHT]: "2.5" }, 2.5],
      [{ [ANNOTATION_WEIGHT]: "-3" }, -3],
      [{ [ANNOTATION_WEIGHT]: "heavy" }, 0],
      [{ [ANNOTATION_WEIGHT]: "" }, 0],
      [{ "other/weight": "9" }, 0],
    ];
    for (const [annotations, weight] of rows) {
      assert.equal(
        exportEntry(secretExport({ metadata: { annotations } }))?.weight,
        weight,
        JSON.stringify(annotations),
      );
    }
  });

  test("reports what is wrong with the spec as destinations.ok=false, naming the field", () => {
    const rows: [name: string, spec: unknown, field: string][] = [
      ["no destination", {}, "spec"],
      ["wrong type", { toNamespaces: "team-a" }, "spec.toNamespaces"],
      [
        "unknown operator",
        { dangerousToNamespacesSelector: [{ key: "metadata.name", operator: "Is" }] },
        "spec.dangerousToNamespacesSelector[0].operator",
      ],
      ["unparsable glob", { toNamespace: "team-[a" }, "spec.toNamespace"],
      ["empty entry", { toNamespaces: ["ok", ""] }, "spec.toNamespaces[1]"],
    ];
    for (const [name, spec, field] of rows) {
      const entry = exportEntry(secretExport({ spec }));
      assert.ok(entry !== undefined, name);
      assert.equal(entry.destinations.ok, false, name);
      if (entry.destinations.ok) continue;
      assert.ok(
        entry.destinations.problems.some((p) => p.field === field),
        `${name}: ${JSON.stringify(entry.destinations.problems)}`,
      );
    }
  });

  test("placement changes when the spec or the weight change, and only then", () => {
    const base = exportEntry(secretExport())?.placement;
    const rows: [name: string, object: KubeObject, changes: boolean][] = [
      ["another destination", secretExport({ spec: { toNamespaces: ["team-*", "ops", "dev"] } }), true],
      [
        "a selector added",
        secretExport({ spec: { toNamespaces: ["team-*", "ops"], toNamespaceSelector: {} } }),
        true,
      ],
      ["another weight", secretExport({ metadata: { annotations: { [ANNOTATION_WEIGHT]: "2" } } }), true],
      ["weight removed", secretExport({ metadata: { annotations: {} } }), true],
      [
        "only the status",
        secretExport({ status: { observedGeneration: 3, conditions: [{ type: "Ready", status: "True" }] } }),
        false,
      ],
      [
        "only resourceVersion and generation",
        secretExport({ metadata: { resourceVersion: "101", generation: 4 } }),
        false,
      ],
      ["another label", secretExport({ metadata: { labels: { app: "x" } } }), false],
      [
        "another annotation",
        secretExport({ metadata: { annotations: { [ANNOTATION_WEIGHT]: "1", note: "hi" } } }),
        false,
      ],
      [
        "the same weight spelled differently",
        secretExport({ metadata: { annotations: { [ANNOTATION_WEIGHT]: "1.0" } } }),
        false,
      ],
    ];
    for (const [name, object, changes] of rows) {
      assert.equal(exportEntry(object)?.placement !== base, changes, name);
    }
  });
});

describe("secretMetadataView", () => {
  const secret = (metadata: Record<string, unknown>): KubeObject => ({
    metadata: { name: "creds", namespace: "team-a", uid: "secret-uid", resourceVersion: "5", ...metadata },
  });

  test("keeps placeholders and the Secrets wanted by key, and drops every other Secret", () => {
    const placeholder = { annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } };
    const rows: [
      name: string,
      metadata: Record<string, unknown>,
      wanted: boolean,
      kept: boolean,
      isPlaceholder: boolean,
    ][] = [
      ["a placeholder nobody exports", placeholder, false, true, true],
      [
        "a placeholder with any annotation value",
        { annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "yes" } },
        false,
        true,
        true,
      ],
      ["an exported source", {}, true, true, false],
      ["an exported placeholder", placeholder, true, true, true],
      ["an unrelated Secret", { annotations: { other: "x" } }, false, false, false],
      ["a Secret without annotations", {}, false, false, false],
    ];
    for (const [name, metadata, wanted, kept, isPlaceholder] of rows) {
      const view = secretMetadataView(secret(metadata), (key) => wanted && key === "team-a/creds");
      assert.equal(view !== undefined, kept, name);
      if (view !== undefined) assert.equal(view.placeholder, isPlaceholder, name);
    }
  });

  test("keeps uid, resourceVersion and the uid of the controller owner only", () => {
    const rows: [name: string, ownerReferences: unknown, controllerUid: string | undefined][] = [
      ["no owners", undefined, undefined],
      [
        "an owner that is not the controller",
        [{ uid: "owner-1" }, { uid: "owner-2", controller: false }],
        undefined,
      ],
      ["a controller owner", [{ uid: "owner-1" }, { uid: "import-uid", controller: true }], "import-uid"],
    ];
    for (const [name, ownerReferences, controllerUid] of rows) {
      const view = secretMetadataView(secret({ ownerReferences, managedFields: MANAGED_FIELDS }), () => true);
      assert.deepEqual(
        view,
        { uid: "secret-uid", resourceVersion: "5", placeholder: false, controllerUid },
        name,
      );
    }
  });
});
