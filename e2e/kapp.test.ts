// Placeholders and the controller itself deployed with carvel's kapp (README "Placeholders under
// kubectl apply and kapp", "Install on a cluster"): kapp's default rebase rules keep what the
// controller fills in, so re-deploying an unchanged app changes nothing, and kapp never touches the
// exports and sources the credentials come from. Skipped, saying how to get kapp, when none is found.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { startControlPlane } from "../dev/control-plane.ts";
import { ANNOTATION_IMAGE_PULL_SECRET, GROUP, SECRET_EXPORT_PLURAL, VERSION } from "../src/constants.ts";
import { statusCode, testNamespace } from "./support/cluster.ts";
import { core, customObjects, useController } from "./support/controller.ts";
import { cred, expectAuths, readPlaceholder } from "./support/fixtures.ts";
import { findKapp, kapp, KAPP_MISSING, opSummary } from "./support/kapp.ts";
import { offer } from "./support/sharing.ts";

const binary = findKapp();
const skip = binary === undefined ? KAPP_MISSING : false;
const kubeconfig = () => process.env.SEC_E2E_KUBECONFIG ?? "";
const NO_CHANGES = "0 create, 0 delete, 0 update";

if (binary !== undefined) useController();

/** An app as users write it: a placeholder (`.dockerconfigjson` is `{}\n`, base64 `e30K`) and a ConfigMap. */
async function appManifest(dir: string, namespace: string, color: string): Promise<string> {
  const file = join(dir, "app.yaml");
  const placeholder = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "pull", namespace, annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": "e30K" },
  };
  const settings = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace },
    data: { color },
  };
  // Two YAML documents (JSON is YAML).
  await writeFile(file, `${JSON.stringify(placeholder)}\n---\n${JSON.stringify(settings)}\n`);
  return file;
}

test(
  "kapp deploy of an app with a placeholder: filled, re-deployed with no changes, a ConfigMap change updates only it, kapp delete leaves exports and sources",
  { skip },
  async (t) => {
    const kappBin = binary ?? "";
    const src = await testNamespace(t, "src");
    const app = await testNamespace(t, "app");
    const dir = await mkdtemp(join(tmpdir(), "kapp-app-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const auths = { "registry.example.com": cred("u", "p") };
    await offer(t, src, "creds", auths, { toNamespace: app });
    const deploy = async (color: string) =>
      kapp(
        kappBin,
        kubeconfig(),
        "deploy",
        "-a",
        "demo",
        "-n",
        app,
        "-f",
        await appManifest(dir, app, color),
      );

    const first = await deploy("blue");
    assert.equal(opSummary(first), "2 create, 0 delete, 0 update");
    const filled = await expectAuths(app, auths);

    // kapp's rebase rules take `.dockerconfigjson` and the status annotation from the cluster.
    const again = await deploy("blue");
    assert.equal(opSummary(again), NO_CHANGES);
    const kept = await readPlaceholder(app);
    assert.deepEqual(kept.auths, auths);
    assert.equal(kept.resourceVersion, filled.resourceVersion);

    const changed = await deploy("green");
    assert.equal(opSummary(changed), "0 create, 0 delete, 1 update");
    assert.match(changed, /configmap\/settings|settings\s+ConfigMap/i);
    assert.doesNotMatch(changed.replace(/[^\n]*Op:[^\n]*/, ""), /\bpull\b[^\n]*update/);
    const settings = await core().readNamespacedConfigMap({ namespace: app, name: "settings" });
    assert.equal(settings.data?.color, "green");
    const afterChange = await readPlaceholder(app);
    assert.deepEqual(afterChange.auths, auths);
    assert.equal(afterChange.resourceVersion, filled.resourceVersion);

    await kapp(kappBin, kubeconfig(), "delete", "-a", "demo", "-n", app);
    await assert.rejects(
      core().readNamespacedSecret({ namespace: app, name: "pull" }),
      (err) => statusCode(err) === 404,
    );
    await assert.rejects(
      core().readNamespacedConfigMap({ namespace: app, name: "settings" }),
      (err) => statusCode(err) === 404,
    );
    const source = await core().readNamespacedSecret({ namespace: src, name: "creds" });
    assert.ok(source.data?.[".dockerconfigjson"]);
    await customObjects().getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: src,
      plural: SECRET_EXPORT_PLURAL,
      name: "creds",
    });
  },
);

test(
  "the controller installed with the README's kapp command (--wait=false) re-deploys with no changes",
  { skip },
  async (t) => {
    // Its own control plane: the app owns the CRDs and the controller's Namespace, which the other
    // test files of the run share.
    const plane = await startControlPlane();
    t.after(() => plane.stop());
    const command = (wait: string) =>
      promisify(execFile)(
        "bash",
        ["-c", `"$KAPP" deploy -a secret-export-controller -f <(kubectl kustomize config/) ${wait} --yes`],
        {
          cwd: resolve(import.meta.dirname, ".."),
          env: { ...process.env, KAPP: binary, KUBECONFIG: plane.kubeconfigPath },
          maxBuffer: 16 * 1024 * 1024,
        },
      ).then(({ stdout, stderr }) => stdout + stderr);

    const installed = await command("--wait=false");
    assert.match(opSummary(installed), /^\d+ create, 0 delete, 0 update$/);
    assert.notEqual(opSummary(installed), NO_CHANGES);
    assert.equal(opSummary(await command("--wait=false")), NO_CHANGES);
    assert.match(installed, /secret-export-controller\s+Deployment\s+-\s+create/);
  },
);
