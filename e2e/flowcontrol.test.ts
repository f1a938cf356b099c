// config/flowcontrol/, the optional API priority and fairness component, on the real API server: the
// controller's ServiceAccount is classified into its own priority level, every other user is not.
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join, relative, resolve } from "node:path";
import { after, before, test } from "node:test";
import { adminKubeConfig, eventually, uniqueName } from "./support/cluster.ts";
import { kubectl } from "./support/rbac.ts";

const root = resolve(import.meta.dirname, "..");
const overlay = join(root, ".run", uniqueName("flowcontrol"));
const CONTROLLER_USER = "system:serviceaccount:secret-export-controller:secret-export-controller";

before(async () => {
  await mkdir(overlay, { recursive: true });
  // kustomize takes a component's path relative to the kustomization, never absolute.
  const component = relative(overlay, join(root, "config", "flowcontrol"));
  await writeFile(join(overlay, "kustomization.yaml"), `components:\n  - ${component}\n`);
  await kubectl("apply", "-k", overlay);
});
after(async () => {
  await kubectl("delete", "--ignore-not-found", "-k", overlay);
  await rm(overlay, { recursive: true, force: true });
});

/** The FlowSchema the API server classified a request of `user` into (its response header). */
async function flowSchemaUidFor(user: string): Promise<string | undefined> {
  const kc = adminKubeConfig();
  const server = new URL(kc.getCurrentCluster()?.server ?? "");
  const options = { method: "GET", headers: { "Impersonate-User": user } };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL("/api/v1/namespaces?limit=1", server), options, (res) => {
      res.resume();
      resolve(res.headers["x-kubernetes-pf-flowschema-uid"] as string | undefined);
    });
    req.on("error", reject).end();
  });
}

test("with config/flowcontrol the controller's ServiceAccount gets its own priority level, other users do not", async () => {
  const schema = JSON.parse(await kubectl("get", "flowschema", "secret-export-controller", "-o", "json")) as {
    metadata: { uid: string };
  };
  // The API server loads new FlowSchemas asynchronously.
  await eventually("the controller classified into its FlowSchema", async () =>
    (await flowSchemaUidFor(CONTROLLER_USER)) === schema.metadata.uid ? true : undefined,
  );
  const other = await flowSchemaUidFor("system:serviceaccount:default:someone-else");
  assert.ok(other !== undefined, "the API server names the FlowSchema of every request");
  assert.notEqual(other, schema.metadata.uid);
});
