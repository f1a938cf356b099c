import assert from "node:assert/strict";
import { test } from "node:test";
import { registryCredentialCrd } from "../../src/api/crds.ts";
import { parseRegistryCredentialSpec, type RegistryCredentialSpec } from "../../src/api/schemas.ts";
import type { AcrSpec, EcrSpec, GcpSpec } from "../../src/credentials/provider.ts";

// The providers take the parsed shapes as the contract's interfaces: a compile-time check.
type Provider<K extends keyof RegistryCredentialSpec> = NonNullable<RegistryCredentialSpec[K]>;
const shapes: [GcpSpec, AcrSpec, EcrSpec] = [] as unknown as [
  Provider<"gcp">,
  Provider<"acr">,
  Provider<"ecr">,
];
void shapes;

const [version] = registryCredentialCrd().spec.versions;

test("RegistryCredential is namespaced in secret-export.dev/v1alpha1 with a status subresource", () => {
  const crd = registryCredentialCrd();
  assert.equal(crd.metadata.name, "registrycredentials.secret-export.dev");
  assert.equal(crd.spec.group, "secret-export.dev");
  assert.equal(crd.spec.scope, "Namespaced");
  assert.equal(version?.name, "v1alpha1");
  assert.deepEqual(version?.subresources, { status: {} });
});

test("RegistryCredential printer columns are Ready, Provider, Expires and Age", () => {
  assert.deepEqual(
    version?.additionalPrinterColumns.map((c) => [c.name, c.jsonPath]),
    [
      ["Ready", '.status.conditions[?(@.type=="Ready")].status'],
      ["Provider", ".status.provider"],
      ["Expires", ".status.expiresAt"],
      ["Age", ".metadata.creationTimestamp"],
    ],
  );
});

test("the API server refuses a RegistryCredential without exactly one provider (a CEL rule on spec)", () => {
  const rules = version?.schema.openAPIV3Schema.properties.spec["x-kubernetes-validations"];
  assert.deepEqual(rules?.[0], {
    rule: "[has(self.basicAuth), has(self.ecr), has(self.gcp), has(self.acr), has(self.exec)].filter(p, p).size() == 1",
    message: "exactly one of basicAuth, ecr, gcp, acr and exec must be set",
  });
});

const cases: { name: string; spec: unknown; problems: string[] }[] = [
  {
    name: "basicAuth with registries",
    spec: { registries: ["registry.example"], basicAuth: { secretRef: { name: "creds" } } },
    problems: [],
  },
  { name: "ecr with a region", spec: { ecr: { region: "eu-west-1" } }, problems: [] },
  { name: "exec with an image", spec: { exec: { image: "registry.example/app" } }, problems: [] },
  {
    name: "no provider",
    spec: { registries: ["registry.example"] },
    problems: ["spec: exactly one of basicAuth, ecr, gcp, acr and exec must be set"],
  },
  {
    name: "two providers",
    spec: { ecr: { region: "eu-west-1" }, exec: { image: "registry.example/app" } },
    problems: ["spec: exactly one of basicAuth, ecr, gcp, acr and exec must be set"],
  },
  {
    name: "basicAuth without registries",
    spec: { basicAuth: { secretRef: { name: "creds" } } },
    problems: ["spec: spec.registries is required with basicAuth"],
  },
  {
    name: "basicAuth field together with usernameKey",
    spec: {
      registries: ["r.example"],
      basicAuth: { secretRef: { name: "c", field: "auth", usernameKey: "u" } },
    },
    problems: ["spec.basicAuth.secretRef: field cannot be combined with usernameKey or passwordKey"],
  },
  {
    name: "gcp with no registries",
    spec: { gcp: { registries: [] } },
    problems: ["spec.gcp.registries: Expected to be non-empty"],
  },
  {
    name: "a lifetime fraction above 0.9",
    spec: { ecr: { region: "eu-west-1" }, refresh: { lifetimeFraction: 0.95 } },
    problems: ["spec.refresh.lifetimeFraction: Too big: expected number to be <=0.9"],
  },
];

for (const { name, spec, problems } of cases) {
  test(`RegistryCredential spec: ${name}`, () => {
    const parsed = parseRegistryCredentialSpec(spec);
    assert.deepEqual(parsed.ok ? [] : parsed.problems.map((p) => `${p.field}: ${p.message}`), problems);
  });
}
