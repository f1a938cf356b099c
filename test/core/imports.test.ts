import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Action,
  type Copy,
  copyPatch,
  decideImport,
  type ExistingSecret,
  type ImportFacts,
  type ImportSource,
  type ImportWhy,
  whyNotOffered,
} from "../../src/core/imports.ts";
import { compileExport } from "../../src/core/destinations.ts";

const UID = "import-uid";
const b64 = (text: string) => Buffer.from(text).toString("base64");
const SOURCE_DATA = { username: b64("u"), password: b64("p") };
const LABELS = { team: "payments" };
const ANNOTATIONS = { "example.com/note": "from platform" };
const IMPORTED_LABEL = { "secretgen.carvel.dev/imported": "true" };

/** An import app/creds from platform whose export reaches app and whose source exists. */
const facts = (overrides: Partial<ImportFacts> = {}): ImportFacts => ({
  namespace: "app",
  name: "creds",
  uid: UID,
  labels: LABELS,
  annotations: ANNOTATIONS,
  spec: { ok: true, fromNamespace: "platform" },
  source: { kind: "offered", type: "Opaque", annotations: {}, data: SOURCE_DATA },
  existing: undefined,
  ...overrides,
});

/** The copy this import made, equal to what it wants. */
const ourCopy = (overrides: Partial<ExistingSecret> = {}): ExistingSecret => ({
  uid: "copy-uid",
  resourceVersion: "42",
  type: "Opaque",
  data: SOURCE_DATA,
  labels: { ...LABELS, ...IMPORTED_LABEL },
  annotations: ANNOTATIONS,
  controllerUid: UID,
  ...overrides,
});

/** A Secret at app/creds that this import does not control. */
const foreign = (controllerUid: string | undefined): ExistingSecret =>
  ourCopy({ uid: "foreign-uid", resourceVersion: "7", controllerUid, labels: { mine: "yes" } });

const desiredCopy = (type = "Opaque", data: Record<string, string> = SOURCE_DATA): Copy => ({
  metadata: {
    name: "creds",
    namespace: "app",
    labels: { team: "payments", "secretgen.carvel.dev/imported": "true" },
    annotations: { "example.com/note": "from platform" },
    ownerReferences: [
      {
        apiVersion: "secretgen.carvel.dev/v1alpha1",
        kind: "SecretImport",
        name: "creds",
        uid: UID,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  },
  type,
  data,
});

const IMPORTED = { ready: true, reason: "Imported", message: "Imported from platform/creds" };
const NO_MATCH = { ready: false, reason: "NoMatchingExport", message: "No matching export/secret" };
const DELETE_OURS: Action = { kind: "delete", uid: "copy-uid", resourceVersion: "42" };
const NONE: Action = { kind: "none" };
const NO_SOURCE: ImportSource = { kind: "noSource" };
const SA_TOKEN: ImportSource = {
  kind: "offered",
  type: "kubernetes.io/service-account-token",
  annotations: {},
  data: { token: b64("t"), "ca.crt": b64("c") },
};
const PLACEHOLDER_SOURCE: ImportSource = {
  kind: "offered",
  type: "kubernetes.io/dockerconfigjson",
  annotations: { "secretgen.carvel.dev/image-pull-secret": "" },
  data: { ".dockerconfigjson": b64("{}") },
};
const OWN_NAMESPACE_MESSAGE =
  "spec.fromNamespace names the SecretImport's own namespace: a Secret cannot be imported into the namespace it comes from";

interface Case {
  name: string;
  facts: ImportFacts;
  outcome: { ready: boolean; reason: string; message?: string | RegExp };
  action: Action;
}

const cases: Case[] = [
  {
    name: "a satisfied import with no Secret at its name creates the copy: import's labels plus the imported label, its annotations, one controller ownerReference, the source's type and data",
    facts: facts(),
    outcome: IMPORTED,
    action: { kind: "create", copy: desiredCopy() },
  },
  {
    name: "a satisfied import copies any source type and its data verbatim",
    facts: facts({
      source: {
        kind: "offered",
        type: "kubernetes.io/tls",
        annotations: {},
        data: { "tls.crt": b64("c"), "tls.key": b64("k") },
      },
    }),
    outcome: IMPORTED,
    action: {
      kind: "create",
      copy: desiredCopy("kubernetes.io/tls", { "tls.crt": b64("c"), "tls.key": b64("k") }),
    },
  },
  {
    name: "a source without data gives a copy without data keys",
    facts: facts({ source: { kind: "offered", type: "Opaque", annotations: {}, data: {} } }),
    outcome: IMPORTED,
    action: { kind: "create", copy: desiredCopy("Opaque", {}) },
  },
  {
    name: "a placeholder as source is refused (SourceIsPlaceholder) and no copy is made",
    facts: facts({ source: PLACEHOLDER_SOURCE }),
    outcome: {
      ready: false,
      reason: "SourceIsPlaceholder",
      message: /is a placeholder the controller fills/,
    },
    action: NONE,
  },
  {
    name: "a source that became a placeholder has our copy deleted",
    facts: facts({ source: PLACEHOLDER_SOURCE, existing: ourCopy() }),
    outcome: { ready: false, reason: "SourceIsPlaceholder" },
    action: DELETE_OURS,
  },
  {
    name: "a copy already equal to the source needs no write",
    facts: facts({ existing: ourCopy() }),
    outcome: IMPORTED,
    action: NONE,
  },
  {
    name: "our copy with different data is merge-patched: changed and new keys set, keys the source lacks nulled, resourceVersion as precondition",
    facts: facts({
      existing: ourCopy({ data: { username: b64("old"), extra: b64("edited in") } }),
    }),
    outcome: IMPORTED,
    action: {
      kind: "patch",
      patch: {
        metadata: { resourceVersion: "42" },
        data: { username: b64("u"), password: b64("p"), extra: null },
      },
    },
  },
  {
    name: "extra labels and annotations on our copy are kept; nothing is written for them",
    facts: facts({
      existing: ourCopy({
        labels: { ...LABELS, ...IMPORTED_LABEL, "kapp.k14s.io/association": "v1" },
        annotations: { ...ANNOTATIONS, "other.example.com/seen": "yes" },
      }),
    }),
    outcome: IMPORTED,
    action: NONE,
  },
  {
    name: "labels and annotations the import has and the copy lacks are patched in, without touching extra ones",
    facts: facts({
      existing: ourCopy({ labels: { other: "kept" }, annotations: { "example.com/note": "edited" } }),
    }),
    outcome: IMPORTED,
    action: {
      kind: "patch",
      patch: {
        metadata: {
          resourceVersion: "42",
          labels: { team: "payments", "secretgen.carvel.dev/imported": "true" },
          annotations: { "example.com/note": "from platform" },
        },
      },
    },
  },
  {
    name: "a source type that differs from our copy's replaces the copy (type is immutable), deleting it with uid and resourceVersion preconditions",
    facts: facts({
      source: { kind: "offered", type: "kubernetes.io/basic-auth", annotations: {}, data: SOURCE_DATA },
      existing: ourCopy(),
    }),
    outcome: IMPORTED,
    action: {
      kind: "replace",
      copy: desiredCopy("kubernetes.io/basic-auth"),
      uid: "copy-uid",
      resourceVersion: "42",
    },
  },
  {
    name: "not satisfied (no export, or it does not reach, or no source) with our copy: the copy is deleted with uid and resourceVersion preconditions",
    facts: facts({ source: NO_SOURCE, existing: ourCopy() }),
    outcome: NO_MATCH,
    action: DELETE_OURS,
  },
  {
    name: "not satisfied and nothing at the name: nothing to do",
    facts: facts({ source: NO_SOURCE }),
    outcome: NO_MATCH,
    action: NONE,
  },
  {
    name: "not satisfied with a foreign Secret (no controller) at the name: it is never deleted",
    facts: facts({ source: NO_SOURCE, existing: foreign(undefined) }),
    outcome: NO_MATCH,
    action: NONE,
  },
  {
    name: "not satisfied with a Secret controlled by something else at the name: it is never deleted",
    facts: facts({ source: NO_SOURCE, existing: foreign("someone-else") }),
    outcome: NO_MATCH,
    action: NONE,
  },
  {
    name: "satisfied but a foreign Secret without a controller sits at the name: SecretExists, nothing written",
    facts: facts({ existing: foreign(undefined) }),
    outcome: {
      ready: false,
      reason: "SecretExists",
      message: /app\/creds already exists.*Delete or rename it/,
    },
    action: NONE,
  },
  {
    name: "satisfied but a Secret controlled by another object sits at the name: SecretExists, not taken over",
    facts: facts({ existing: foreign("another-import-uid") }),
    outcome: {
      ready: false,
      reason: "SecretExists",
      message: /app\/creds already exists.*Delete or rename it/,
    },
    action: NONE,
  },
  {
    name: "a foreign Secret carrying the imported label and the source's data is still not ours",
    facts: facts({ existing: ourCopy({ controllerUid: undefined }) }),
    outcome: { ready: false, reason: "SecretExists" },
    action: NONE,
  },
  {
    name: "a service-account-token source is refused with UnsupportedType and no copy is made",
    facts: facts({ source: SA_TOKEN }),
    outcome: { ready: false, reason: "UnsupportedType", message: /kubernetes\.io\/service-account-token/ },
    action: NONE,
  },
  {
    name: "a source that became a service-account token deletes our existing copy",
    facts: facts({ source: SA_TOKEN, existing: ourCopy() }),
    outcome: { ready: false, reason: "UnsupportedType" },
    action: DELETE_OURS,
  },
  {
    name: "a service-account-token source never touches a foreign Secret at the name",
    facts: facts({ source: SA_TOKEN, existing: foreign(undefined) }),
    outcome: { ready: false, reason: "UnsupportedType" },
    action: NONE,
  },
  {
    name: "an import whose fromNamespace is its own namespace is InvalidSpec and touches nothing, not even the source",
    facts: facts({
      namespace: "platform",
      existing: foreign(undefined),
    }),
    outcome: { ready: false, reason: "InvalidSpec", message: OWN_NAMESPACE_MESSAGE },
    action: NONE,
  },
  {
    name: "an import into its own namespace removes a copy it made earlier",
    facts: facts({ namespace: "platform", existing: ourCopy() }),
    outcome: { ready: false, reason: "InvalidSpec", message: OWN_NAMESPACE_MESSAGE },
    action: DELETE_OURS,
  },
  {
    name: "an invalid spec is InvalidSpec in carvel's 'Validation errors:' list format",
    facts: facts({
      spec: {
        ok: false,
        problems: [
          { field: "spec.fromNamespace", message: "Expected to be non-empty" },
          { field: "spec", message: "Unrecognized key: fromNamepsace" },
        ],
      },
    }),
    outcome: {
      ready: false,
      reason: "InvalidSpec",
      message:
        "Validation errors:\n- spec.fromNamespace: Expected to be non-empty\n- spec: Unrecognized key: fromNamepsace",
    },
    action: NONE,
  },
  {
    name: "an invalid spec with our copy deletes the copy and never a foreign Secret",
    facts: facts({
      spec: { ok: false, problems: [{ field: "spec.fromNamespace", message: "Expected to be non-empty" }] },
      existing: ourCopy(),
    }),
    outcome: {
      ready: false,
      reason: "InvalidSpec",
      message: "Validation errors:\n- spec.fromNamespace: Expected to be non-empty",
    },
    action: DELETE_OURS,
  },
];

for (const c of cases) {
  test(`decideImport: ${c.name}`, () => {
    const snapshot = structuredClone(c.facts);
    const decision = decideImport(c.facts);
    assert.deepEqual(decision.action, c.action);
    assert.equal(decision.outcome.ready, c.outcome.ready);
    assert.equal(decision.outcome.reason, c.outcome.reason);
    if (typeof c.outcome.message === "string") assert.equal(decision.outcome.message, c.outcome.message);
    else if (c.outcome.message) assert.match(decision.outcome.message, c.outcome.message);
    assert.deepEqual(c.facts, snapshot, "decideImport leaves its input alone");
  });
}

test("decideImport: the copy shares no objects with the import or the source", () => {
  const input = facts();
  const decision = decideImport(input);
  assert.equal(decision.action.kind, "create");
  if (decision.action.kind !== "create") return;
  const { copy } = decision.action;
  assert.notEqual(copy.data, input.source.kind === "offered" ? input.source.data : undefined);
  assert.notEqual(copy.metadata.labels, input.labels);
  assert.notEqual(copy.metadata.annotations, input.annotations);
});

test("decideImport: the import's own label of the same name cannot remove the imported label", () => {
  const decision = decideImport(facts({ labels: { "secretgen.carvel.dev/imported": "false" } }));
  assert.equal(decision.action.kind, "create");
  if (decision.action.kind === "create")
    assert.equal(decision.action.copy.metadata.labels["secretgen.carvel.dev/imported"], "true");
});

const patchCases: {
  name: string;
  existing: ExistingSecret;
  expected: ReturnType<typeof copyPatch>;
}[] = [
  { name: "an equal copy needs no patch", existing: ourCopy(), expected: undefined },
  {
    name: "a changed value is set",
    existing: ourCopy({ data: { ...SOURCE_DATA, password: b64("stale") } }),
    expected: { metadata: { resourceVersion: "42" }, data: { password: b64("p") } },
  },
  {
    name: "a key the source lacks is nulled (removed)",
    existing: ourCopy({ data: { ...SOURCE_DATA, stray: b64("x") } }),
    expected: { metadata: { resourceVersion: "42" }, data: { stray: null } },
  },
  {
    name: "a key the copy lacks is added",
    existing: ourCopy({ data: { username: b64("u") } }),
    expected: { metadata: { resourceVersion: "42" }, data: { password: b64("p") } },
  },
  {
    name: "extra labels and annotations are kept (never nulled)",
    existing: ourCopy({
      labels: { ...LABELS, ...IMPORTED_LABEL, extra: "kept" },
      annotations: { ...ANNOTATIONS, "extra.example.com/a": "kept" },
    }),
    expected: undefined,
  },
  {
    name: "a changed label value and a missing annotation are set, with the resourceVersion precondition",
    existing: ourCopy({ labels: { ...LABELS, ...IMPORTED_LABEL, team: "other" }, annotations: {} }),
    expected: {
      metadata: {
        resourceVersion: "42",
        labels: { team: "payments" },
        annotations: { "example.com/note": "from platform" },
      },
    },
  },
];

for (const c of patchCases) {
  test(`copyPatch: ${c.name}`, () => {
    assert.deepEqual(copyPatch(c.existing, desiredCopy()), c.expected);
  });
}

test("decideImport says why an import is or is not satisfied", async (t) => {
  const invalid = { ok: false as const, problems: [{ field: "spec.fromNamespace", message: "Expected" }] };
  const notReached: ImportSource = { kind: "notReached", why: "no rule matches" };
  const rows: { name: string; facts: ImportFacts; why: ImportWhy }[] = [
    { name: "imported", facts: facts(), why: { kind: "imported" } },
    { name: "imported, copy in sync", facts: facts({ existing: ourCopy() }), why: { kind: "imported" } },
    {
      name: "invalid spec, whatever the source",
      facts: facts({ spec: invalid }),
      why: { kind: "invalidSpec" },
    },
    { name: "its own namespace", facts: facts({ namespace: "platform" }), why: { kind: "ownNamespace" } },
    { name: "not offered: the reason passes through", facts: facts({ source: notReached }), why: notReached },
    { name: "no source", facts: facts({ source: NO_SOURCE }), why: NO_SOURCE },
    { name: "a service-account token", facts: facts({ source: SA_TOKEN }), why: { kind: "unsupportedType" } },
    {
      name: "a foreign Secret at the name",
      facts: facts({ existing: foreign(undefined) }),
      why: { kind: "secretExists" },
    },
  ];
  for (const row of rows)
    await t.test(row.name, () => assert.deepEqual(decideImport(row.facts).why, row.why));
});

test("whyNotOffered: what stops an export from offering its source to an import's namespace", async (t) => {
  const app = { name: "app", labels: {}, annotations: {}, terminating: false, object: {} };
  const toApp = { destinations: compileExport({ toNamespace: "app" }) };
  const toOther = { destinations: compileExport({ toNamespace: "other" }) };
  const problems = [{ field: "spec.toNamespace", message: "bad" }];
  const rows: {
    name: string;
    namespace: typeof app | undefined;
    exported: typeof toApp | undefined;
    want: unknown;
  }[] = [
    { name: "it reaches the namespace", namespace: app, exported: toApp, want: undefined },
    {
      name: "the namespace does not exist",
      namespace: undefined,
      exported: toApp,
      want: { kind: "namespaceNotFound" },
    },
    { name: "no such export", namespace: app, exported: undefined, want: { kind: "noExport" } },
    {
      name: "the export is invalid",
      namespace: app,
      exported: { destinations: { ok: false, problems } },
      want: { kind: "invalidExport", problems },
    },
    {
      name: "it does not reach the namespace",
      namespace: app,
      exported: toOther,
      want: { kind: "notReached", why: "no toNamespace/toNamespaces entry or selector matches it" },
    },
  ];
  for (const row of rows) {
    await t.test(row.name, () => assert.deepEqual(whyNotOffered(row.namespace, row.exported), row.want));
  }
});
