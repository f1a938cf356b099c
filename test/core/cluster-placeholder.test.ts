import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ClusterPlaceholderSpec } from "../../src/api/schemas.ts";
import {
  ANNOTATION_EXCLUDED_FROM_WILDCARD,
  ANNOTATION_IMAGE_PULL_SECRET,
  LABEL_CLUSTER_PLACEHOLDER,
  REASON_SECRET_EXISTS,
} from "../../src/constants.ts";
import {
  compileClusterPlaceholder,
  type CompiledClusterPlaceholder,
  decideProvision,
  matchNamespace,
  type ProvisionFacts,
  type SecretAtName,
} from "../../src/core/cluster-placeholder.ts";
import type { NamespaceView } from "../../src/core/types.ts";

function namespace(
  name: string,
  { labels = {}, annotations = {}, terminating = false } = {} as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    terminating?: boolean;
  },
): NamespaceView {
  return { name, labels, annotations, terminating, object: { metadata: { name, labels, annotations } } };
}

function compile(
  namespaces: ClusterPlaceholderSpec["namespaces"],
  extra: Partial<ClusterPlaceholderSpec> = {},
) {
  const result = compileClusterPlaceholder("registry", { secretName: "pull", namespaces, ...extra });
  assert.ok(result.ok, JSON.stringify(result));
  return result.compiled;
}

describe("which namespaces a ClusterPlaceholder matches, and why", () => {
  const cases: {
    name: string;
    compiled: CompiledClusterPlaceholder;
    ns: NamespaceView;
    pods?: number;
    expected: ReturnType<typeof matchNamespace>;
  }[] = [
    {
      name: "an exact name",
      compiled: compile({ names: ["ci", "app"] }),
      ns: namespace("app"),
      expected: { matches: true, reasons: ["listed in spec.namespaces.names[1]"] },
    },
    {
      name: "a glob",
      compiled: compile({ names: ["ci-*"] }),
      ns: namespace("ci-42"),
      expected: { matches: true, reasons: ['its name matches spec.namespaces.names[0] "ci-*"'] },
    },
    {
      name: "a glob does not match a namespace excluded from wildcard matching",
      compiled: compile({ names: ["ci-*"] }),
      ns: namespace("ci-42", { annotations: { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: "" } }),
      expected: {
        matches: false,
        why: `spec.namespaces.names[0] "ci-*" matches its name, but the namespace is annotated ${ANNOTATION_EXCLUDED_FROM_WILDCARD}`,
      },
    },
    {
      name: "an exact name still matches a namespace excluded from wildcard matching",
      compiled: compile({ names: ["ci-42"] }),
      ns: namespace("ci-42", { annotations: { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: "" } }),
      expected: { matches: true, reasons: ["listed in spec.namespaces.names[0]"] },
    },
    {
      name: "namespace labels",
      compiled: compile({ selector: { matchLabels: { team: "a" } } }),
      ns: namespace("x", { labels: { team: "a" } }),
      expected: { matches: true, reasons: ["its labels match spec.namespaces.selector team=a"] },
    },
    {
      name: "namespace labels that do not match",
      compiled: compile({ selector: { matchLabels: { team: "a" } } }),
      ns: namespace("x", { labels: { team: "b" } }),
      expected: { matches: false, why: "its labels do not match spec.namespaces.selector team=a" },
    },
    {
      name: "annotations: all pairs, exact values",
      compiled: compile({ annotations: { "mesh/inject": "true", owner: "ci" } }),
      ns: namespace("x", { annotations: { "mesh/inject": "true", owner: "ci", other: "1" } }),
      expected: {
        matches: true,
        reasons: ["it is annotated mesh/inject=true, owner=ci (spec.namespaces.annotations)"],
      },
    },
    {
      name: "annotations with another value",
      compiled: compile({ annotations: { "mesh/inject": "true" } }),
      ns: namespace("x", { annotations: { "mesh/inject": "false" } }),
      expected: { matches: false, why: "it is not annotated mesh/inject=true" },
    },
    {
      name: "pods: matches while one pod matches",
      compiled: compile({ withPods: { matchLabels: { "sidecar.istio.io/inject": "true" } } }),
      ns: namespace("x"),
      pods: 1,
      expected: {
        matches: true,
        reasons: ["1 pod there matches spec.namespaces.withPods sidecar.istio.io/inject=true"],
      },
    },
    {
      name: "pods: none matching",
      compiled: compile({ withPods: { matchExpressions: [{ key: "app", operator: "Exists" }] } }),
      ns: namespace("x"),
      pods: 0,
      expected: { matches: false, why: "no pod there matches spec.namespaces.withPods app" },
    },
    {
      name: "the conditions are ORed, and every one that holds is a reason",
      compiled: compile({ names: ["x"], selector: { matchLabels: { team: "a" } }, annotations: { a: "1" } }),
      ns: namespace("x", { labels: { team: "a" } }),
      expected: {
        matches: true,
        reasons: ["listed in spec.namespaces.names[0]", "its labels match spec.namespaces.selector team=a"],
      },
    },
    {
      name: "when none holds, each says why",
      compiled: compile({ names: ["y"], annotations: { a: "1" }, withPods: {} }),
      ns: namespace("x"),
      expected: {
        matches: false,
        why: "no entry of spec.namespaces.names matches its name; it is not annotated a=1; no pod there matches spec.namespaces.withPods {}",
      },
    },
    {
      name: "a namespace being deleted never matches",
      compiled: compile({ names: ["x"] }),
      ns: namespace("x", { terminating: true }),
      pods: 3,
      expected: { matches: false, why: "the namespace is being deleted" },
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(matchNamespace(c.compiled, c.ns, c.pods ?? 0), c.expected));
  }
});

describe("a ClusterPlaceholder's spec problems name the field and say what to do", () => {
  const problems = (spec: ClusterPlaceholderSpec, name = "registry") => {
    const result = compileClusterPlaceholder(name, spec);
    assert.ok(!result.ok);
    return result.problems.map((p) => p.field);
  };
  test("no condition at all", () =>
    assert.deepEqual(problems({ secretName: "pull", namespaces: {} }), ["spec.namespaces"]));
  test("a secretName that is not a Secret name", () =>
    assert.deepEqual(problems({ secretName: "Pull_Secret", namespaces: { names: ["a"] } }), [
      "spec.secretName",
    ]));
  test("a bad glob and a bad selector", () =>
    assert.deepEqual(
      problems({
        secretName: "pull",
        namespaces: { names: ["[b-a]"], withPods: { matchExpressions: [{ key: "a", operator: "In" }] } },
      }),
      ["spec.namespaces.names[0]", "spec.namespaces.withPods.matchExpressions[0].values"],
    ));
  test("a ServiceAccount name that is not one", () =>
    assert.deepEqual(
      problems({ secretName: "pull", namespaces: { names: ["a"] }, serviceAccounts: ["De fault"] }),
      ["spec.serviceAccounts[0]"],
    ));
  test("a name too long to be a label value", () =>
    assert.deepEqual(problems({ secretName: "pull", namespaces: { names: ["a"] } }, "x".repeat(64)), [
      "metadata.name",
    ]));
  test("the withPods selector is described the way the API server reads a label selector", () => {
    const compiled = compile({
      withPods: {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }],
      },
    });
    assert.equal(compiled.withPods?.description, "app=web,tier in (a,b)");
  });
});

describe("what to create and delete in a namespace", () => {
  const owner = { name: "registry", uid: "cp-uid" };
  const ours = (name = "pull"): SecretAtName => ({
    name,
    uid: `${name}-uid`,
    resourceVersion: "7",
    createdBy: "registry",
    placeholder: true,
  });
  const facts = (over: Partial<ProvisionFacts>): ProvisionFacts => ({
    owner,
    secretName: "pull",
    namespace: "app",
    wanted: true,
    atName: undefined,
    created: [],
    ...over,
  });

  test("a matching namespace without the Secret gets a placeholder: annotated, labelled, owned, empty auths", () => {
    const { actions, service } = decideProvision(facts({}));
    assert.deepEqual(service, { served: true });
    assert.deepEqual(actions, [
      {
        kind: "create",
        secret: {
          apiVersion: "v1",
          kind: "Secret",
          metadata: {
            name: "pull",
            namespace: "app",
            annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" },
            labels: { [LABEL_CLUSTER_PLACEHOLDER]: "registry" },
            ownerReferences: [
              {
                apiVersion: "secret-export.dev/v1alpha1",
                kind: "ClusterPlaceholder",
                name: "registry",
                uid: "cp-uid",
              },
            ],
          },
          type: "kubernetes.io/dockerconfigjson",
          data: { ".dockerconfigjson": Buffer.from('{"auths":{}}').toString("base64") },
        },
      },
    ]);
  });

  test("its own placeholder is kept as it is", () =>
    assert.deepEqual(decideProvision(facts({ atName: ours(), created: [ours()] })), {
      actions: [],
      service: { served: true },
    }));

  test("a placeholder someone else made is left as it is and serves (not taken over)", () =>
    assert.deepEqual(decideProvision(facts({ atName: { ...ours(), createdBy: undefined } })), {
      actions: [],
      service: { served: true },
    }));

  test("a Secret that is not a placeholder is never touched, and the namespace is not served", () => {
    const { actions, service } = decideProvision(
      facts({ atName: { ...ours(), createdBy: undefined, placeholder: false } }),
    );
    assert.deepEqual(actions, []);
    assert.equal(service?.served, false);
    assert.equal(service?.served === false && service.reason, REASON_SECRET_EXISTS);
  });

  test("a namespace that stops matching loses only the placeholder this ClusterPlaceholder made, with preconditions", () =>
    assert.deepEqual(
      decideProvision(
        facts({
          wanted: false,
          atName: ours(),
          created: [ours(), { ...ours("other"), createdBy: "other-cp" }],
        }),
      ),
      {
        actions: [{ kind: "delete", name: "pull", uid: "pull-uid", resourceVersion: "7" }],
        service: undefined,
      },
    ));

  test("a placeholder someone else made is not deleted when the namespace stops matching", () =>
    assert.deepEqual(decideProvision(facts({ wanted: false, atName: { ...ours(), createdBy: undefined } })), {
      actions: [],
      service: undefined,
    }));

  test("a renamed secretName: the old placeholder goes, the new one is created", () => {
    const { actions } = decideProvision(facts({ secretName: "pull2", created: [ours()] }));
    assert.deepEqual(
      actions.map((a) => [
        a.kind,
        a.kind === "delete" ? a.name : (a.secret.metadata as { name: string }).name,
      ]),
      [
        ["delete", "pull"],
        ["create", "pull2"],
      ],
    );
  });

  test("the ClusterPlaceholder gone: what it made is deleted", () =>
    assert.deepEqual(
      decideProvision(facts({ secretName: undefined, wanted: false, created: [ours()] })).actions,
      [{ kind: "delete", name: "pull", uid: "pull-uid", resourceVersion: "7" }],
    ));
});
