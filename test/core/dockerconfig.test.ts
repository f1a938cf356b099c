import assert from "node:assert/strict";
import { test } from "node:test";
import { compareBytewise, parseDockerConfig, serialiseDockerConfig } from "../../src/core/dockerconfig.ts";

const SECRET = "s3cr3t-Pa55";

test("parseDockerConfig keeps every field of an entry", () => {
  const entry = {
    username: "u",
    password: SECRET,
    auth: "dTpw",
    email: "e@x",
    identitytoken: "t",
    serveraddress: "x",
  };
  assert.deepEqual(parseDockerConfig(JSON.stringify({ auths: { "ghcr.io": entry } })), {
    ok: true,
    entries: [{ key: "ghcr.io", entry }],
    skipped: [],
  });
});

test("parseDockerConfig accepts any single credential field", async (t) => {
  for (const field of ["username", "password", "auth", "identitytoken", "registrytoken"]) {
    await t.test(field, () => {
      const parsed = parseDockerConfig(JSON.stringify({ auths: { r: { [field]: "x" } } }));
      assert.deepEqual(parsed, { ok: true, entries: [{ key: "r", entry: { [field]: "x" } }], skipped: [] });
    });
  }
});

test("parseDockerConfig skips entries without any credential", async (t) => {
  const empty = [{}, { username: "", password: "", auth: "" }, { email: "e@x" }, { identitytoken: "" }];
  for (const entry of empty) {
    await t.test(JSON.stringify(entry), () => {
      const parsed = parseDockerConfig(JSON.stringify({ auths: { empty: entry, full: { auth: "a" } } }));
      assert.deepEqual(parsed, {
        ok: true,
        entries: [{ key: "full", entry: { auth: "a" } }],
        skipped: ["empty"],
      });
    });
  }
});

test("parseDockerConfig reads field names case-insensitively and null as absent, as Go does", () => {
  const parsed = parseDockerConfig('{"Auths":{"r":{"USERNAME":"u","Password":"p","email":null,"Extra":1}}}');
  assert.deepEqual(parsed, {
    ok: true,
    entries: [{ key: "r", entry: { username: "u", password: "p", Extra: 1 } }],
    skipped: [],
  });
});

test("parseDockerConfig accepts an empty auths object", () => {
  assert.deepEqual(parseDockerConfig('{"auths":{}}'), { ok: true, entries: [], skipped: [] });
});

test("parseDockerConfig names the problem with malformed documents", async (t) => {
  const cases: [string, string][] = [
    ["", "not valid JSON"],
    ["{", "not valid JSON"],
    ["[]", "the top level must be a JSON object, not an array"],
    ['"auths"', "the top level must be a JSON object, not a string"],
    ["null", "the top level must be a JSON object, not null"],
    ["{}", "the top level has no auths object"],
    ['{"ghcr.io":{"auth":"a"}}', "the top level has no auths object"],
    ['{"auths":null}', "auths must be an object, not null"],
    ['{"auths":[]}', "auths must be an object, not an array"],
    ['{"auths":{"ghcr.io":"str"}}', 'auths["ghcr.io"] must be an object, not a string'],
    ['{"auths":{"ghcr.io":null}}', 'auths["ghcr.io"] must be an object, not null'],
    ['{"auths":{"ghcr.io":{"password":1}}}', 'auths["ghcr.io"].password must be a string, not a number'],
    ['{"auths":{"ghcr.io":{"Username":true}}}', 'auths["ghcr.io"].Username must be a string, not a boolean'],
    ['{"auths":{"r":{"auth":"a","email":{}}}}', 'auths["r"].email must be a string, not an object'],
    [
      '{"auths":{"r":{"auth":"a","registrytoken":[]}}}',
      'auths["r"].registrytoken must be a string, not an array',
    ],
  ];
  for (const [json, message] of cases) {
    await t.test(json || "(empty)", () => assert.deepEqual(parseDockerConfig(json), { ok: false, message }));
  }
});

test("parseDockerConfig never puts a credential into its message", async (t) => {
  const documents = [
    SECRET,
    `{"auths":{"r":{"password":"${SECRET}"}`,
    `{"auths":{"r":{"password":"${SECRET}","auth":5}}}`,
    `{"auths":{"r":{"password":"${SECRET}"},"s":"${SECRET}"}}`,
    `{"auths":"${SECRET}"}`,
    `["${SECRET}"]`,
  ];
  for (const json of documents) {
    await t.test(json, () => {
      const parsed = parseDockerConfig(json);
      assert.equal(parsed.ok, false);
      assert.ok(!parsed.ok && !parsed.message.includes(SECRET), parsed.ok ? "" : parsed.message);
    });
  }
});

test("serialiseDockerConfig writes compact JSON with sorted keys and credentials first", () => {
  const json = serialiseDockerConfig([
    { key: "quay.io", entry: { registrytoken: "t", email: "e", auth: "a", username: "u" } },
    { key: "docker.io", entry: { zeta: { b: 1, a: 2 }, password: "p", identitytoken: "i", username: "u" } },
  ]);
  assert.equal(
    json,
    '{"auths":{"docker.io":{"username":"u","password":"p","identitytoken":"i","zeta":{"b":1,"a":2}},' +
      '"quay.io":{"username":"u","auth":"a","email":"e","registrytoken":"t"}}}',
  );
});

test("serialiseDockerConfig keeps numeric-looking registry keys in sorted position", () => {
  const json = serialiseDockerConfig([
    { key: "5000", entry: { auth: "b" } },
    { key: "10.0.0.1:5000", entry: { auth: "a" } },
  ]);
  assert.equal(json, '{"auths":{"10.0.0.1:5000":{"auth":"a"},"5000":{"auth":"b"}}}');
});

test("serialiseDockerConfig of nothing is an empty auths object", () => {
  assert.equal(serialiseDockerConfig([]), '{"auths":{}}');
});

test("serialiseDockerConfig output parses back to the same entries", () => {
  const entries = [
    { key: 'a\u00e9"</>', entry: { auth: "x&y", email: "\u2028" } },
    { key: "b", entry: { username: "u", password: "p" } },
  ];
  assert.deepEqual(parseDockerConfig(serialiseDockerConfig(entries)), { ok: true, entries, skipped: [] });
});

test("compareBytewise orders by UTF-8 bytes, not UTF-16 code units", () => {
  const sorted = ["b", "\u{1F600}", "\uFF21", "B", "a"].sort(compareBytewise);
  assert.deepEqual(sorted, ["B", "a", "b", "\uFF21", "\u{1F600}"]);
});
