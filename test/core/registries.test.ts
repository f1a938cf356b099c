import assert from "node:assert/strict";
import { test } from "node:test";
import { normaliseRegistry } from "../../src/core/registries.ts";

const spellings: [string, string][] = [
  ["docker.io", "docker.io"],
  ["https://index.docker.io/v1/", "docker.io"],
  ["https://index.docker.io/v1", "docker.io"],
  ["http://index.docker.io/v2/", "docker.io"],
  ["index.docker.io", "docker.io"],
  ["registry-1.docker.io", "docker.io"],
  ["https://registry-1.docker.io/v2/", "docker.io"],
  ["registry.hub.docker.com", "docker.io"],
  ["HTTPS://INDEX.DOCKER.IO/V1/", "docker.io"],
  ["Docker.IO/", "docker.io"],
  ["ghcr.io", "ghcr.io"],
  ["GHCR.io", "ghcr.io"],
  ["https://ghcr.io", "ghcr.io"],
  ["ghcr.io/", "ghcr.io"],
  ["ghcr.io//", "ghcr.io"],
  ["ghcr.io/v2", "ghcr.io"],
  ["ghcr.io/v1/", "ghcr.io"],
  ["localhost:5000", "localhost:5000"],
  ["http://LocalHost:5000/v2/", "localhost:5000"],
  ["registry.example.com:443", "registry.example.com:443"],
  ["registry.example.com/team", "registry.example.com/team"],
  ["https://Registry.Example.com/Team/", "registry.example.com/Team"],
  ["registry.example.com/team/v2/", "registry.example.com/team"],
  ["registry.example.com/v2/team", "registry.example.com/v2/team"],
  ["registry.example.com/v10", "registry.example.com/v10"],
  ["index.docker.io/library", "docker.io/library"],
  ["docker.io.example.com", "docker.io.example.com"],
];

test("normaliseRegistry folds every spelling of a registry into one key", async (t) => {
  for (const [key, expected] of spellings) {
    await t.test(key, () => assert.equal(normaliseRegistry(key), expected));
  }
});

test("a port and a path keep registries distinct from the bare host", () => {
  const forms = ["ghcr.io", "ghcr.io:443", "ghcr.io/team", "ghcr.io/Team"].map(normaliseRegistry);
  assert.equal(new Set(forms).size, forms.length);
});
