import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProviderInput } from "../../src/credentials/provider.ts";
import { mintBasicAuth } from "../../src/credentials/providers/basic-auth.ts";

const input = (data: Record<string, string>): ProviderInput => ({
  secret: {
    type: "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])),
  },
  env: {},
  endpoints: { gcpTokenUrl: "", acrRegistrySuffixes: [] },
  signal: new AbortController().signal,
  now: () => new Date(),
});
const registries = ["registry.example", "mirror.example:5000"];

const cases: {
  name: string;
  ref: Parameters<typeof mintBasicAuth>[0]["secretRef"];
  data: Record<string, string>;
  pair?: [string, string];
  error?: RegExp;
}[] = [
  {
    name: "username and password keys (Gardener)",
    ref: { name: "login" },
    data: { username: "u", password: "p:w" },
    pair: ["u", "p:w"],
  },
  {
    name: "renamed keys",
    ref: { name: "login", usernameKey: "user", passwordKey: "token" },
    data: { user: "u", token: "t" },
    pair: ["u", "t"],
  },
  {
    name: "one field username:password (Argo CD Image Updater)",
    ref: { name: "login", field: "creds" },
    data: { creds: "u:p:w" },
    pair: ["u", "p:w"],
  },
  {
    name: "a missing key is named",
    ref: { name: "login" },
    data: { username: "u" },
    error: /^Secret login has no key "password" \(or it is empty\)$/,
  },
  {
    name: "a field without a colon",
    ref: { name: "login", field: "creds" },
    data: { creds: "secret-no-colon" },
    error: /^key "creds" of Secret login must hold username:password$/,
  },
];
for (const c of cases) {
  test(`basicAuth: ${c.name}`, async () => {
    const minted = mintBasicAuth({ registries, secretRef: c.ref }, input(c.data));
    if (c.error)
      return assert.rejects(
        minted,
        (err: Error) => (
          assert.match(err.message, c.error ?? /x/),
          assert.doesNotMatch(err.message, /secret-no-colon/),
          true
        ),
      );
    const [username = "", password = ""] = c.pair ?? [];
    assert.deepEqual(await minted, {
      auths: { "registry.example": { username, password }, "mirror.example:5000": { username, password } },
      identity: "Secret login",
    });
  });
}
