import assert from "node:assert/strict";
import { test } from "node:test";
import {
  explainClusterPlaceholders,
  renderClusterPlaceholders,
} from "../../src/explain/cluster-placeholders.ts";
import { clusterPlaceholderEntry } from "../../src/views/cluster-placeholders.ts";
import { namespaceView } from "../../src/views/views.ts";

const entry = (name: string, spec: Record<string, unknown>) => {
  const made = clusterPlaceholderEntry({ metadata: { name, uid: `${name}-uid`, generation: 1 }, spec });
  assert.ok(made);
  return made;
};
const team = namespaceView({
  metadata: { name: "team-a", labels: { team: "a" } },
  status: { phase: "Active" },
});

test("explain says which ClusterPlaceholders match the namespace and why, and why the others do not", () => {
  const list = explainClusterPlaceholders({
    entries: [
      entry("mesh", {
        secretName: "mesh-pull",
        namespaces: { withPods: { matchLabels: { inject: "true" } } },
      }),
      entry("by-team", {
        secretName: "pull",
        namespaces: { selector: { matchLabels: { team: "a" } } },
        serviceAccounts: ["default"],
      }),
      entry("broken", { secretName: "pull", namespaces: {} }),
    ],
    namespace: team,
    pods: new Map([["inject=true", 0]]),
  });
  assert.deepEqual(
    list.map((c) => [c.name, c.matches, c.reasons, c.problems.map((p) => p.field)]),
    [
      [
        "broken",
        false,
        ["its spec is invalid: it creates and removes nothing until it is fixed"],
        ["spec.namespaces"],
      ],
      ["by-team", true, ["its labels match spec.namespaces.selector team=a"], []],
      ["mesh", false, ["no pod there matches spec.namespaces.withPods inject=true"], []],
    ],
  );
  assert.equal(
    renderClusterPlaceholders(list, "team-a", 80),
    [
      "",
      "ClusterPlaceholders matching team-a (1 of 3):",
      "  broken keeps Secret pull: does not match",
      "    - its spec is invalid: it creates and removes nothing until it is fixed",
      "    - spec.namespaces: Expected at least one condition: set names, selector,",
      "      annotations or withPods",
      "  by-team keeps Secret pull, ServiceAccounts default: matches",
      "    - its labels match spec.namespaces.selector team=a",
      "  mesh keeps Secret mesh-pull: does not match",
      "    - no pod there matches spec.namespaces.withPods inject=true",
      "",
    ].join("\n"),
  );
});

test("matching pods counted for the namespace make a withPods ClusterPlaceholder match", () => {
  const [mesh] = explainClusterPlaceholders({
    entries: [
      entry("mesh", { secretName: "p", namespaces: { withPods: { matchLabels: { inject: "true" } } } }),
    ],
    namespace: team,
    pods: new Map([["inject=true", 2]]),
  });
  assert.deepEqual(mesh?.reasons, ["2 pods there match spec.namespaces.withPods inject=true"]);
});

test("without ClusterPlaceholders explain adds nothing", () => {
  assert.equal(renderClusterPlaceholders([], "team-a"), "");
});
