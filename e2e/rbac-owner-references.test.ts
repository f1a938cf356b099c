// Clusters that enable the OwnerReferencesPermissionEnforcement admission plugin (OpenShift does) let
// a client set blockOwnerDeletion on an ownerReference only with `update` on the owner's finalizers
// subresource. The copies a SecretImport makes carry such a reference, so the ClusterRole grants
// secretimports/finalizers update. This runs the controller as config/'s ServiceAccount on a private
// control plane with that plugin on: the copy is made, and it would be refused without that rule.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type TestContext, test } from "node:test";
import { eventually, serviceAccountKubeConfig, testNamespace } from "./support/cluster.ts";
import { startControllerProcess } from "./support/controller-process.ts";
import {
  createExport,
  createImport,
  createTypedSecret,
  decodedData,
  expectImportReason,
  readSecretIfAny,
} from "./support/fixtures.ts";
import { usePrivateControlPlane } from "./support/private-plane.ts";
import { controllerKubeConfigFile, kubectl } from "./support/rbac.ts";

const root = resolve(import.meta.dirname, "..");

usePrivateControlPlane({
  apiServerArgs: ["--enable-admission-plugins=OwnerReferencesPermissionEnforcement"],
});

async function importedCopy(t: TestContext, prefix: string) {
  const from = await testNamespace(t, `${prefix}-from`);
  const to = await testNamespace(t, `${prefix}-to`);
  await createTypedSecret(from, "creds", "Opaque", { token: "owned-token" });
  await createExport(t, from, "creds", { toNamespace: to });
  const { uid } = await createImport(t, to, "creds", from);
  return { to, uid };
}

test("with OwnerReferencesPermissionEnforcement on, the controller's ServiceAccount still makes the owned copy", async (t) => {
  const controller = startControllerProcess([
    "--kubeconfig",
    await controllerKubeConfigFile(),
    "--leader-elect",
    "false",
  ]);
  t.after(() => controller.stop());
  const { to, uid } = await importedCopy(t, "owner");
  await expectImportReason(to, "creds", "Imported", 30_000);
  const copy = await readSecretIfAny(to, "creds");
  assert.deepEqual(decodedData(copy?.data), { token: "owned-token" });
  assert.equal(copy?.metadata?.ownerReferences?.[0]?.uid, uid);
  assert.equal(copy?.metadata?.ownerReferences?.[0]?.blockOwnerDeletion, true);
});

test("without secretimports/finalizers update, that plugin refuses the copy (the rule is needed)", async (t) => {
  // The ClusterRole of config/ less that one rule, applied under another name and bound to another
  // ServiceAccount, so the real one stays intact for the test above.
  const clusterRole = await readFile(join(root, "config/clusterrole.yaml"), "utf8");
  const reduced = clusterRole
    .replace(
      /^ {2}- apiGroups: \[secretgen\.carvel\.dev\]\n {4}resources: \[secretimports\/finalizers\]\n {4}verbs: \[update\]\n/m,
      "",
    )
    .replace("name: secret-export-controller", "name: sec-without-finalizers");
  assert.ok(!reduced.includes("secretimports/finalizers"), "the rule was removed");
  const dir = await mkdtemp(join(tmpdir(), "sec-rbac-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "clusterrole.yaml");
  await writeFile(file, reduced);
  await kubectl("apply", "-f", file);
  const kc = await serviceAccountKubeConfig("default", "sec-without-finalizers");
  await kubectl(
    "create",
    "clusterrolebinding",
    "sec-without-finalizers",
    "--clusterrole=sec-without-finalizers",
    "--serviceaccount=default:sec-without-finalizers",
  );
  const kubeconfig = join(dir, "kubeconfig.json");
  await writeFile(kubeconfig, kc.exportConfig(), { mode: 0o600 });
  const controller = startControllerProcess(["--kubeconfig", kubeconfig, "--leader-elect", "false"]);
  t.after(() => controller.stop());
  const { to } = await importedCopy(t, "noowner");
  await eventually(
    "the copy refused by OwnerReferencesPermissionEnforcement",
    async () => ((await controller.log()).includes("cannot set blockOwnerDeletion") ? true : undefined),
    30_000,
  );
  assert.equal(await readSecretIfAny(to, "creds"), undefined);
});
