// Where the API server is and how to authenticate, read without client-node when the configuration is
// a JSON kubeconfig with static credentials, and by client-node for anything else.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { registerHooks } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadKubeAccess } from "../../src/runtime/kube-access.ts";

const loaded: string[] = [];
registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith("@kubernetes/client-node")) loaded.push(specifier);
    return next(specifier, context);
  },
});

const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:6443", ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u", namespace: "team-a" } }],
    "current-context": "ctx",
  };
}

async function file(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kube-access-"));
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

test("a JSON kubeconfig with a token and certificates is read without loading client-node", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kube-access-"));
  await writeFile(join(dir, "ca.crt"), cert);
  const path = join(dir, "config.json");
  // A relative certificate path is relative to the kubeconfig, as kubectl reads it.
  await writeFile(path, JSON.stringify(kubeconfig({ token: "abc" }, { "certificate-authority": "ca.crt" })));
  const access = await loadKubeAccess(path, {});
  assert.equal(access.server, "https://127.0.0.1:6443");
  assert.equal(access.namespace, "team-a");
  const { headers, dispatcher } = await access.authorize();
  assert.deepEqual(headers, { Authorization: "Bearer abc" });
  assert.ok(dispatcher);
  assert.deepEqual(loaded, []);
});

test("$KUBECONFIG names the file when no path is given", async () => {
  const path = await file("config.json", JSON.stringify(kubeconfig({ token: "from-env" })));
  const access = await loadKubeAccess(undefined, { KUBECONFIG: path });
  assert.deepEqual((await access.authorize()).headers, { Authorization: "Bearer from-env" });
  assert.deepEqual(loaded, []);
});

test("a YAML kubeconfig is read by client-node, with the same result", async () => {
  const yaml = [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}}]",
    "users: [{name: u, user: {token: yaml-token}}]",
    "contexts: [{name: ctx, context: {cluster: c, user: u, namespace: team-b}}]",
    "current-context: ctx",
  ].join("\n");
  const access = await loadKubeAccess(await file("config", yaml), {});
  assert.equal(access.server, "https://127.0.0.1:6443");
  assert.equal(access.namespace, "team-b");
  assert.equal((await access.authorize()).headers.Authorization, "Bearer yaml-token");
  assert.ok(loaded.length > 0);
});

test("a user with an exec plugin is handed to client-node, which runs the plugin", async () => {
  const credential = JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { token: "from-exec" },
  });
  const user = {
    exec: {
      apiVersion: "client.authentication.k8s.io/v1",
      command: process.execPath,
      args: ["-e", `process.stdout.write(${JSON.stringify(credential)})`],
      interactiveMode: "Never",
    },
  };
  const access = await loadKubeAccess(await file("config.json", JSON.stringify(kubeconfig(user))), {});
  assert.equal((await access.authorize()).headers.Authorization, "Bearer from-exec");
});
