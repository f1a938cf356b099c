// config/policies/, the optional ValidatingAdmissionPolicy, on the real API server: outside platform
// namespaces a SecretExport may only name namespaces exactly, and what it may not do is refused at
// apply time with a message that says why.
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { after, before, test } from "node:test";
import { GROUP, VERSION } from "../src/constants.ts";
import { adminKubeConfig, eventually, ignoreNotFound, testNamespace, uniqueName } from "./support/cluster.ts";
import { customObjects, installCrds } from "./support/controller.ts";
import { kubectl } from "./support/rbac.ts";
import { CustomObjectsApi } from "@kubernetes/client-node";

const root = resolve(import.meta.dirname, "..");
const PLATFORM = { "secret-export-controller/platform": "true" };
const overlay = join(root, ".run", uniqueName("policies"));

before(async () => {
  await installCrds();
  // The component as a user enables it: from a kustomization of their own.
  await mkdir(overlay, { recursive: true });
  // kustomize takes a component's path relative to the kustomization, never absolute.
  const component = relative(overlay, join(root, "config", "policies"));
  await writeFile(join(overlay, "kustomization.yaml"), `components:\n  - ${component}\n`);
  await kubectl("apply", "-k", overlay);
});
after(async () => {
  await kubectl("delete", "--ignore-not-found", "-k", overlay);
  await rm(overlay, { recursive: true, force: true });
});

/** Creates a SecretExport and deletes it again; the API server's refusal message, or undefined. */
async function refusal(namespace: string, spec: Record<string, unknown>, annotations = {}) {
  const name = uniqueName("e");
  const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
  const target = { group: GROUP, version: VERSION, namespace, plural: "secretexports" };
  try {
    await api.createNamespacedCustomObject({
      ...target,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "SecretExport",
        metadata: { name, annotations },
        spec,
      },
    });
  } catch (err) {
    const body = (err as { body?: unknown }).body;
    return typeof body === "string"
      ? ((JSON.parse(body) as { message?: string }).message ?? body)
      : String(err);
  }
  await customObjects()
    .deleteNamespacedCustomObject({ ...target, name })
    .catch(ignoreNotFound);
  return undefined;
}

test('a tenant\'s export to "*" is refused at apply time, saying only platform namespaces may', async (t) => {
  const tenant = await testNamespace(t, "tenant");
  // The policy takes effect once the API server has loaded it.
  const message = await eventually("the wildcard export refused", () =>
    refusal(tenant, { toNamespaces: ["*"] }),
  );
  assert.match(message, /must name namespaces exactly here: "\*" and other globs/);
  assert.match(message, /secret-export-controller\/platform=true/);
  assert.match((await refusal(tenant, { toNamespace: "team-*" })) ?? "", /globs/);
  assert.match(
    (await refusal(tenant, { toNamespaceSelector: { matchLabels: { a: "b" } } })) ?? "",
    /toNamespaceSelector and dangerousToNamespacesSelector/,
  );
  assert.match(
    (await refusal(tenant, { toNamespace: "app" }, { "secretgen.carvel.dev/weight": "1000" })) ?? "",
    /weight annotation/,
  );
  assert.equal(await refusal(tenant, { toNamespace: "app", toNamespaces: ["team-a", "team-b"] }), undefined);
});

test('a platform namespace may export to "*", by globs and selectors, with a weight', async (t) => {
  const tenant = await testNamespace(t, "tenant");
  const platform = await testNamespace(t, "platform", { labels: PLATFORM });
  await eventually("the policy in force", () => refusal(tenant, { toNamespaces: ["*"] }));
  const broad = {
    toNamespaces: ["*", "team-*"],
    toNamespaceSelector: { matchLabels: { a: "b" } },
  };
  assert.equal(await refusal(platform, broad, { "secretgen.carvel.dev/weight": "1000" }), undefined);
});
