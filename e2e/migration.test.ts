// Taking over from carvel's secretgen-controller (docs/migration.md): what carvel left in
// the cluster, a placeholder it filled and the copies it made, is picked up without being emptied.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_STATUS,
  ANNOTATION_WEIGHT,
  LABEL_IMPORTED,
} from "../src/constants.ts";
import { eventually, testNamespace } from "./support/cluster.ts";
import { core, useController } from "./support/controller.ts";
import {
  type Auths,
  createExport,
  createImport,
  createTypedSecret,
  cred,
  decodedData,
  dockerConfig,
  readSecretIfAny,
} from "./support/fixtures.ts";
import {
  expectPlaceholder,
  offer,
  readSecret,
  setExportAnnotations,
  quiescent,
  statusOf,
} from "./support/sharing.ts";

const { controller } = useController();

/** A placeholder as carvel leaves it: its last-wins merge, and a status without `sources`. */
async function createCarvelPlaceholder(namespace: string, auths: Auths, secretNames: string[]) {
  const status = { conditions: [{ type: "ReconcileSucceeded", status: "True" }], secretNames };
  await core().createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name: "pull",
        annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "", [ANNOTATION_STATUS]: JSON.stringify(status) },
      },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": dockerConfig(auths) },
    },
  });
}

test("a placeholder carvel filled keeps what it holds; a registry carvel resolved by last-wins is reported as a conflict until a weight resolves it", async (t) => {
  const platform = await testNamespace(t, "platform");
  const team = await testNamespace(t, "team");
  const app = await testNamespace(t, "app");
  const shared = cred("platform", "p1");
  const teams = cred("team", "t1");
  const quay = cred("q", "q1");
  const platformExport = await offer(t, platform, "hub", { "docker.io": shared }, { toNamespace: app });
  const quayExport = await offer(t, platform, "quay", { "quay.io": quay }, { toNamespace: app });
  const teamExport = await offer(t, team, "hub", { "docker.io": teams }, { toNamespace: app });
  // carvel's order puts team/hub last, so carvel silently gave the placeholder the team's credentials.
  await createCarvelPlaceholder(app, { "docker.io": teams, "quay.io": quay }, [
    platformExport,
    quayExport,
    teamExport,
  ]);

  const taken = await expectPlaceholder(app, "the conflict reported", (read) =>
    (statusOf(read).conflicts ?? []).some((c) => c.registry === "docker.io"),
  );
  assert.deepEqual(taken.auths, { "docker.io": teams, "quay.io": quay }, "nothing carvel wrote is lost");
  assert.deepEqual(
    statusOf(taken).sources,
    { "docker.io": teamExport, "quay.io": quayExport },
    "the export offering exactly the entry held is taken to be its provider",
  );

  await setExportAnnotations(platform, "hub", { [ANNOTATION_WEIGHT]: "1" });
  const resolved = await expectPlaceholder(
    app,
    "docker.io from the weighted export",
    (read) => statusOf(read).sources?.["docker.io"] === platformExport,
  );
  assert.deepEqual(resolved.auths, { "docker.io": shared, "quay.io": quay });
  assert.deepEqual(statusOf(resolved).conflicts ?? [], []);
});

test("a copy carvel made for a SecretImport (its controller ownerReference, no imported label) is adopted and kept in step", async (t) => {
  const from = await testNamespace(t, "from");
  const to = await testNamespace(t, "to");
  await createTypedSecret(from, "token", "Opaque", { value: "current" });
  await createExport(t, from, "token", { toNamespace: to });
  await createImport(t, to, "token", from);
  const made = await eventually("the copy", () => readSecretIfAny(to, "token"));
  const owner = made.metadata?.ownerReferences?.find((o) => o.controller);
  assert.ok(owner, "the copy has a controller ownerReference");

  // Turn it into what carvel leaves behind: the same ownerReference, no label, older data.
  await core().replaceNamespacedSecret({
    namespace: to,
    name: "token",
    body: {
      metadata: {
        name: "token",
        resourceVersion: made.metadata?.resourceVersion,
        ownerReferences: made.metadata?.ownerReferences,
      },
      type: "Opaque",
      stringData: { value: "stale" },
    },
  });

  const adopted = await eventually("the copy adopted", async () => {
    const copy = await readSecret(to, "token");
    const labelled = copy.metadata?.labels?.[LABEL_IMPORTED] === "true";
    return labelled && decodedData(copy.data).value === "current" ? copy : undefined;
  });
  assert.deepEqual(decodedData(adopted.data), { value: "current" });
  assert.equal(adopted.metadata?.uid, made.metadata?.uid, "updated in place, not recreated");
  assert.deepEqual(adopted.metadata?.ownerReferences, made.metadata?.ownerReferences);
  await quiescent(controller());
});
