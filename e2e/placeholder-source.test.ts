// A placeholder is never a source (issue 13, item 1): an export or import of a placeholder offers
// nothing, so a credential reaches only the namespaces its own export offers it to, and deleting
// that export withdraws it everywhere.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testNamespace } from "./support/cluster.ts";
import { useController } from "./support/controller.ts";
import {
  cred,
  createExport,
  createImport,
  createPlaceholder,
  deleteExport,
  expectAuths,
  expectImportReason,
  expectReadyReason,
  readSecretIfAny,
} from "./support/fixtures.ts";
import { offer, readyOf, getExport, quiescent, uniqueRegistry } from "./support/sharing.ts";

const { controller } = useController();

test("a placeholder offered to F and exported by F to H never reaches H; the export says SourceIsPlaceholder", async (t) => {
  const platform = await testNamespace(t, "platform");
  const f = await testNamespace(t, "f");
  const h = await testNamespace(t, "h");
  const [offered, marker] = [uniqueRegistry("offered"), uniqueRegistry("marker")];
  await offer(t, platform, "creds", { [offered]: cred("p", "secret") }, { toNamespace: f });
  await createPlaceholder(f);
  await expectAuths(f, { [offered]: cred("p", "secret") });
  await createExport(t, f, "pull", { toNamespace: h });
  await offer(t, platform, "marker", { [marker]: cred("m", "m") }, { toNamespace: h });
  await createPlaceholder(h);

  const refused = await expectReadyReason(f, "pull", "SourceIsPlaceholder");
  assert.match(String(refused.message), /image-pull-secret annotation/);
  assert.equal((await getExport(f, "pull")).status?.namespacesReached, 0);
  await expectAuths(h, { [marker]: cred("m", "m") });
  await expectAuths(f, { [offered]: cred("p", "secret") }, "pull");
});

test("a placeholder exported to its own namespace loses the registry when the platform withdraws it", async (t) => {
  const platform = await testNamespace(t, "platform");
  const f = await testNamespace(t, "f");
  const registry = uniqueRegistry("withdrawn");
  await offer(t, platform, "creds", { [registry]: cred("p", "secret") }, { toNamespace: f });
  await createPlaceholder(f);
  await expectAuths(f, { [registry]: cred("p", "secret") });
  await createExport(t, f, "pull", { toNamespace: f });
  await expectReadyReason(f, "pull", "SourceIsPlaceholder");

  await deleteExport(platform, "creds");
  await expectAuths(f, {});
});

test("two placeholders exported to each other both lose the registry when the platform withdraws it", async (t) => {
  const platform = await testNamespace(t, "platform");
  const f = await testNamespace(t, "f");
  const h = await testNamespace(t, "h");
  const registry = uniqueRegistry("cycle");
  await offer(t, platform, "creds", { [registry]: cred("p", "secret") }, { toNamespaces: [f, h] });
  await createPlaceholder(f);
  await createPlaceholder(h);
  await expectAuths(f, { [registry]: cred("p", "secret") });
  await expectAuths(h, { [registry]: cred("p", "secret") });
  await createExport(t, f, "pull", { toNamespace: h });
  await createExport(t, h, "pull", { toNamespace: f });
  await expectReadyReason(f, "pull", "SourceIsPlaceholder");
  await expectReadyReason(h, "pull", "SourceIsPlaceholder");

  await deleteExport(platform, "creds");
  await expectAuths(f, {});
  await expectAuths(h, {});
  assert.equal(readyOf((await getExport(h, "pull")).status)?.reason, "SourceIsPlaceholder");
});

test("a SecretImport of a placeholder is refused with SourceIsPlaceholder and makes no copy", async (t) => {
  const platform = await testNamespace(t, "platform");
  const f = await testNamespace(t, "f");
  const h = await testNamespace(t, "h");
  const registry = uniqueRegistry("imported");
  await offer(t, platform, "creds", { [registry]: cred("p", "secret") }, { toNamespace: f });
  await createPlaceholder(f);
  await expectAuths(f, { [registry]: cred("p", "secret") });
  await createExport(t, f, "pull", { toNamespace: h });
  await createImport(t, h, "pull", f);

  await expectImportReason(h, "pull", "SourceIsPlaceholder");
  await quiescent(controller());
  assert.equal(await readSecretIfAny(h, "pull"), undefined);
});
