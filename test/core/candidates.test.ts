import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSecretDockerConfig, placeholderCandidates } from "../../src/core/candidates.ts";
import { ANNOTATION_IMAGE_PULL_SECRET } from "../../src/constants.ts";
import { compileExport } from "../../src/core/destinations.ts";
import { parseDockerConfig } from "../../src/core/dockerconfig.ts";
import type { ExportView, NamespaceView, SecretExportSpec } from "../../src/core/types.ts";

const namespace = (name: string, labels: Record<string, string> = {}): NamespaceView => ({
  name,
  labels,
  annotations: {},
  terminating: false,
  object: { metadata: { name, labels } },
});

const placed = (key: string, spec: SecretExportSpec, weight = 0): ExportView => {
  const [ns = "", name = ""] = key.split("/");
  return { namespace: ns, name, weight, destinations: compileExport(spec) };
};

const config = (registry: string) => JSON.stringify({ auths: { [registry]: { password: "p" } } });
const secret = (registry: string, annotations: Record<string, string> = {}) => ({
  config: config(registry),
  annotations,
});

test("placeholderCandidates: the exports reaching the namespace whose source is a dockerconfigjson Secret and not a placeholder", () => {
  const exports = [
    placed("ops/exact", { toNamespace: "app" }, 2),
    placed("app/own", { toNamespace: "*" }),
    placed("ops/labels", { toNamespaceSelector: { matchLabels: { team: "a" } } }),
    placed("ops/elsewhere", { toNamespace: "other" }),
    placed("ops/invalid", { toNamespace: "[" }),
    placed("ops/no-source", { toNamespace: "app" }),
    placed("app/pull", { toNamespace: "app" }),
  ];
  const sources = new Map([
    ["ops/exact", secret("a.io")],
    ["app/own", secret("b.io")],
    ["ops/labels", secret("c.io")],
    ["ops/elsewhere", secret("d.io")],
    ["ops/invalid", secret("e.io")],
    ["app/pull", secret("f.io", { [ANNOTATION_IMAGE_PULL_SECRET]: "" })],
  ]);
  const asked: string[] = [];
  const candidates = placeholderCandidates(
    exports,
    (key) => {
      asked.push(key);
      return sources.get(key);
    },
    namespace("app", { team: "a" }),
    (s) => parseDockerConfig(s.config),
  );
  assert.deepEqual(
    candidates.map(({ exportKey, weight, sameNamespace, exact }) => ({
      exportKey,
      weight,
      sameNamespace,
      exact,
    })),
    [
      { exportKey: "ops/exact", weight: 2, sameNamespace: false, exact: true },
      { exportKey: "app/own", weight: 0, sameNamespace: true, exact: false },
      { exportKey: "ops/labels", weight: 0, sameNamespace: false, exact: false },
    ],
  );
  assert.deepEqual(candidates[0]?.source, parseDockerConfig(config("a.io")));
  assert.deepEqual(
    asked,
    ["ops/exact", "app/own", "ops/labels", "ops/no-source", "app/pull"],
    "sources are looked up only when reached; a placeholder as source is never a candidate",
  );
});

test("parseSecretDockerConfig reads the base64 .dockerconfigjson of a Secret's data", () => {
  const encoded = Buffer.from(config("a.io")).toString("base64");
  assert.deepEqual(
    parseSecretDockerConfig({ ".dockerconfigjson": encoded }),
    parseDockerConfig(config("a.io")),
  );
  assert.deepEqual(parseSecretDockerConfig({}), { ok: false, message: "not valid JSON" });
});
