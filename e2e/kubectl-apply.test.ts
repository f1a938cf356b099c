// A placeholder managed with `kubectl apply`, the way application manifests are: what re-applying the
// unchanged manifest does to the credentials the controller filled in (README "Placeholders under
// kubectl apply and kapp"). The same with `kapp deploy` is e2e/kapp.test.ts.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ANNOTATION_IMAGE_PULL_SECRET } from "../src/constants.ts";
import { testNamespace } from "./support/cluster.ts";
import { useController } from "./support/controller.ts";
import { cred, expectAuths, readPlaceholder } from "./support/fixtures.ts";
import { kubectl } from "./support/rbac.ts";
import { offer } from "./support/sharing.ts";

useController();

/** The placeholder as carvel's documentation writes it: `.dockerconfigjson` is `{}` until filled. */
async function manifest(namespace: string): Promise<string> {
  const file = join(tmpdir(), `placeholder-${namespace}.json`);
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "pull",
      namespace,
      labels: { app: "demo" },
      annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" },
    },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from("{}\n").toString("base64") },
  };
  await writeFile(file, JSON.stringify(secret));
  return file;
}

test("kubectl apply of an unchanged placeholder manifest resets the credentials (its three-way merge), and the controller fills them again at once", async (t) => {
  const src = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const auths = { "registry.example.com": cred("u", "p") };
  await offer(t, src, "creds", auths, { toNamespace: app });
  const file = await manifest(app);

  assert.match(await kubectl("apply", "-f", file), /secret\/pull created/);
  await expectAuths(app, auths);

  // kubectl patches every field of the manifest back to the manifest's value, as it does to the
  // replicas of a Deployment an autoscaler scaled: the filled `.dockerconfigjson` is one of them.
  const again = await kubectl("apply", "-f", file);
  assert.match(again, /secret\/pull configured/);
  const filled = await expectAuths(app, auths, "pull", 5_000);
  assert.equal(Object.keys(filled.data).length, 1);

  // Server-side apply instead: the controller owns the field it wrote, so re-applying a manifest that
  // sets it is refused as a conflict, and the filled credentials stay.
  await assert.rejects(
    kubectl("apply", "--server-side", "--field-manager", "deployer", "-f", file),
    /conflict/i,
  );
  assert.deepEqual((await readPlaceholder(app)).auths, auths);
});
