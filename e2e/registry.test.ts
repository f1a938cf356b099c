// What the controller writes into a placeholder is what a real registry client authenticates with:
// the Distribution registry (htpasswd basic auth, TLS, loopback) and crane, reading the manifest of
// an image pushed there, with the placeholder's `.dockerconfigjson` as its docker config.json, and
// refused without it.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { testNamespace } from "./support/cluster.ts";
import { useController } from "./support/controller.ts";
import { createPlaceholder, cred, expectAuths, updateSource } from "./support/fixtures.ts";
import { crane, dockerConfigDir, type Registry, startRegistry, writeImage } from "./support/registry.ts";
import { core } from "./support/controller.ts";
import { offer } from "./support/sharing.ts";

useController();

const PUSHER = { user: "pusher", password: "push-secret" };

/** A registry holding one image pushed by crane (as PUSHER) and a puller with this password. */
async function registryWithImage(t: TestContext, puller: string, password: string) {
  const registry = await startRegistry(t, { [PUSHER.user]: PUSHER.password, [puller]: password });
  const image = await writeImage(t, registry.host);
  const pushConfig = await dockerConfigDir(
    t,
    JSON.stringify({ auths: { [registry.host]: cred(PUSHER.user, PUSHER.password) } }),
  );
  const ref = `${registry.host}/demo/app:1`;
  await crane(registry, pushConfig, "push", image.layout, ref);
  return { registry, ref, digest: image.digest };
}

/** The placeholder's `.dockerconfigjson`, exactly as stored, as a docker config folder. */
async function placeholderConfig(t: TestContext, namespace: string): Promise<string> {
  const secret = await core().readNamespacedSecret({ namespace, name: "pull" });
  const raw = secret.data?.[".dockerconfigjson"] ?? "";
  return dockerConfigDir(t, Buffer.from(raw, "base64").toString("utf8"));
}

const digestWith = (registry: Registry, config: string | undefined, ref: string) =>
  crane(registry, config, "digest", ref);

test("two sources for two real registries merge into one placeholder that crane authenticates to both with, and without it crane is refused", async (t) => {
  const a = await registryWithImage(t, "alice", "alice-secret");
  const b = await registryWithImage(t, "bob", "bob-secret");
  const src = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await offer(t, src, "a", { [a.registry.host]: cred("alice", "alice-secret") }, { toNamespace: app });
  await offer(t, src, "b", { [b.registry.host]: cred("bob", "bob-secret") }, { toNamespace: app });
  await createPlaceholder(app, "pull");
  await expectAuths(app, {
    [a.registry.host]: cred("alice", "alice-secret"),
    [b.registry.host]: cred("bob", "bob-secret"),
  });

  const config = await placeholderConfig(t, app);
  assert.equal(await digestWith(a.registry, config, a.ref), a.digest);
  assert.equal(await digestWith(b.registry, config, b.ref), b.digest);
  await assert.rejects(digestWith(a.registry, undefined, a.ref), /UNAUTHORIZED|401/);
  await assert.rejects(digestWith(b.registry, undefined, b.ref), /UNAUTHORIZED|401/);
});

test("a source whose registry key is spelled https://HOST:PORT/v1/ gives a placeholder crane authenticates with", async (t) => {
  const r = await registryWithImage(t, "carol", "carol-secret");
  const src = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  const key = `https://${r.registry.host}/v1/`;
  await offer(t, src, "legacy", { [key]: cred("carol", "carol-secret") }, { toNamespace: app });
  await createPlaceholder(app, "pull");
  await expectAuths(app, { [key]: cred("carol", "carol-secret") });
  assert.equal(await digestWith(r.registry, await placeholderConfig(t, app), r.ref), r.digest);
});

test("rotation: a new htpasswd entry, the source updated to it, the old entry removed: the placeholder still authenticates", async (t) => {
  const r = await registryWithImage(t, "dave", "old-secret");
  const src = await testNamespace(t, "src");
  const app = await testNamespace(t, "app");
  await offer(t, src, "creds", { [r.registry.host]: cred("dave", "old-secret") }, { toNamespace: app });
  await createPlaceholder(app, "pull");
  await expectAuths(app, { [r.registry.host]: cred("dave", "old-secret") });
  const before = await placeholderConfig(t, app);
  assert.equal(await digestWith(r.registry, before, r.ref), r.digest);

  // As a rotation goes: the new credential exists first, then the source moves to it, then the old one goes.
  await r.registry.setUsers({ [PUSHER.user]: PUSHER.password, dave: "old-secret", "dave-2": "new-secret" });
  await updateSource(src, "creds", { [r.registry.host]: cred("dave-2", "new-secret") });
  await expectAuths(app, { [r.registry.host]: cred("dave-2", "new-secret") });
  await r.registry.setUsers({ [PUSHER.user]: PUSHER.password, "dave-2": "new-secret" });

  assert.equal(await digestWith(r.registry, await placeholderConfig(t, app), r.ref), r.digest);
  await assert.rejects(digestWith(r.registry, before, r.ref), /UNAUTHORIZED|401/);
});
