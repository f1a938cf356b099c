// Placeholders filled exactly as SPEC §3 says, against the real API server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { testNamespace } from "./support/cluster.ts";
import { useController } from "./support/controller.ts";
import { cred, createExport, createPlaceholder, createSource, expectAuths } from "./support/fixtures.ts";

useController();

test("a placeholder in a namespace the export names is filled with the source's credentials", async (t) => {
  const source = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await createSource(source, "creds", { "registry.example.com": cred("u", "p") });
  await createExport(t, source, "creds", { toNamespace: app });
  await createPlaceholder(app);
  const filled = await expectAuths(app, { "registry.example.com": cred("u", "p") });
  assert.deepEqual(filled.status?.secretNames, [`${source}/creds`]);
});
