import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ProviderError, type ProviderInput } from "../../src/credentials/provider.ts";
import { imageMatches, mintExec, parseDuration } from "../../src/credentials/providers/exec.ts";
import { writeTestPlugin } from "../support/test-plugin.ts";

const matchCases: [string, string, boolean][] = [
  ["*.dkr.ecr.*.amazonaws.com", "123.dkr.ecr.eu-west-1.amazonaws.com/app:1", true],
  ["*.dkr.ecr.*.amazonaws.com", "dkr.ecr.eu-west-1.amazonaws.com/app", false],
  ["*.azurecr.io", "a.b.azurecr.io/app", false],
  ["registry.example:5000", "registry.example:5000/app", true],
  ["registry.example:5000", "registry.example/app", false],
  ["registry.example/team", "registry.example/team/app", true],
  ["registry.example/team", "registry.example/other/app", false],
  ["https://registry.example", "registry.example/app", true],
];
for (const [pattern, image, expected] of matchCases) {
  test(`exec: matchImages ${pattern} ${expected ? "matches" : "does not match"} ${image}`, () => {
    assert.equal(imageMatches(pattern, image), expected);
  });
}

test("exec: Go durations", () => {
  assert.equal(parseDuration("12h"), 12 * 3600_000);
  assert.equal(parseDuration("1h30m"), 5400_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("0s"), 0);
  assert.equal(parseDuration("soon"), 0);
  assert.equal(parseDuration(undefined), 0);
});

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "exec-test-"));
  await writeTestPlugin(join(dir, "bin"), "test-plugin");
  await writeFile(
    join(dir, "bin", "broken-plugin"),
    "#!/bin/sh\necho token-on-stderr-never-logged >&2\nexit 3\n",
  );
  await chmod(join(dir, "bin", "broken-plugin"), 0o755);
  await writeFile(
    join(dir, "config.yaml"),
    [
      "apiVersion: kubelet.config.k8s.io/v1",
      "kind: CredentialProviderConfig",
      "providers:",
      "  - name: test-plugin",
      '    matchImages: ["*.registry.test", "registry.test"]',
      "    defaultCacheDuration: 1h",
      "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
      "    env: [{ name: TEST_PLUGIN_PASSWORD, value: plugin-password-never-logged }, { name: TEST_PLUGIN_CACHE, value: 90s }]",
      "  - name: broken-plugin",
      '    matchImages: ["broken.test"]',
      "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
    ].join("\n"),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

const input = (): ProviderInput => ({
  env: { PATH: process.env.PATH },
  endpoints: { gcpTokenUrl: "", acrRegistrySuffixes: [] },
  signal: AbortSignal.timeout(10_000),
  now: () => new Date("2026-12-02T00:00:00Z"),
});
const plugins = () => ({ configPath: join(dir, "config.yaml"), binDir: join(dir, "bin") });

test("exec: the plugin matching the image answers a v1 request; its cacheDuration is the lifetime", async () => {
  const minted = await mintExec({ image: "eu.registry.test/team/app:1", plugins: plugins() }, input());
  assert.deepEqual(minted, {
    auths: { "eu.registry.test": { username: "plugin-user", password: "plugin-password-never-logged" } },
    expiresAt: new Date("2026-12-02T00:01:30Z"),
    identity: "plugin test-plugin",
  });
});

test("exec: spec.registries names the auths keys", async () => {
  const minted = await mintExec(
    { image: "registry.test/app", registries: ["registry.test", "mirror.test"], plugins: plugins() },
    input(),
  );
  assert.deepEqual(Object.keys(minted.auths), ["registry.test", "mirror.test"]);
});

test("exec: no plugin for the image is refused without retrying", async () => {
  await assert.rejects(
    mintExec({ image: "other.example/app", plugins: plugins() }, input()),
    (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.retryable, false);
      assert.match(
        err.message,
        /no plugin in the credential provider config matches image other\.example\/app/,
      );
      return true;
    },
  );
});

test("exec: a failing plugin is named with its exit code, never its stderr", async () => {
  await assert.rejects(mintExec({ image: "broken.test/app", plugins: plugins() }, input()), (err: Error) => {
    assert.equal(err.message, "plugin broken-plugin exited with code 3");
    return true;
  });
});
