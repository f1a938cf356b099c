import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ProviderError, type InputSecret, type ProviderInput } from "../../src/credentials/provider.ts";
import { GCP_SCOPE, GCP_USERNAME, mintGcp } from "../../src/credentials/providers/gcp.ts";
import {
  JWT_BEARER,
  type GoogleTokenServer,
  type MetadataServer,
  type ServiceAccount,
  startGoogleTokenServer,
  startMetadataServer,
} from "../support/google.ts";
import { rsaKeyPair, signJwt } from "../support/jwt.ts";
import {
  createTestTls,
  listen,
  type Loopback,
  sendJson,
  type TestTls,
  trustInProcess,
} from "../support/loopback.ts";

const EMAIL = "puller@test-project.iam.gserviceaccount.com";
const REGISTRIES = ["europe-docker.pkg.dev", "gcr.io"];

let tls: TestTls;
let google: GoogleTokenServer;
let metadata: MetadataServer;
let keyJson: string;

before(async () => {
  tls = await createTestTls();
  trustInProcess(tls);
  google = await startGoogleTokenServer({ tls, scope: GCP_SCOPE, lifetimeSeconds: 7 });
  metadata = await startMetadataServer({
    email: "wi@test-project.iam.gserviceaccount.com",
    lifetimeSeconds: 5,
  });
  keyJson = google.addServiceAccount(EMAIL).keyJson;
});
after(async () => {
  await google?.close();
  await metadata?.close();
  await tls?.remove();
});

const secretWith = (data: Record<string, string>): InputSecret => ({
  type: "Opaque",
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])),
});

function input(overrides: Partial<ProviderInput> = {}): ProviderInput {
  return {
    env: {},
    endpoints: { gcpTokenUrl: google.tokenUrl, acrRegistrySuffixes: [] },
    signal: AbortSignal.timeout(60_000),
    now: () => new Date(),
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => assert.fail("expected a ProviderError"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProviderError, `expected a ProviderError, got ${String(err)}`);
  return err;
}

function assertSecretFree(message: string, ...secrets: string[]) {
  for (const secret of secrets) {
    for (const piece of secret.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----"))) {
      assert.ok(!message.includes(piece), `message leaks a secret: ${message}`);
    }
  }
}

const keySpec = (key?: string) => ({
  registries: REGISTRIES,
  secretRef: { name: "gcp-key", ...(key && { key }) },
});

describe("gcp with a service-account key", () => {
  it("mints an access token for every registry, expiring after the expires_in the endpoint sent", async () => {
    const before = Date.now();
    const minted = await mintGcp(keySpec(), input({ secret: secretWith({ "key.json": keyJson }) }));
    const after = Date.now();
    const token = google.issued.at(-1);
    assert.ok(token);
    assert.deepEqual(minted.auths, {
      "europe-docker.pkg.dev": { username: GCP_USERNAME, password: token },
      "gcr.io": { username: GCP_USERNAME, password: token },
    });
    assert.equal(minted.identity, EMAIL);
    const expiresAt = minted.expiresAt?.getTime() ?? 0;
    assert.ok(
      expiresAt >= before + 7000 && expiresAt <= after + 7000,
      `expiresAt ${minted.expiresAt?.toISOString()}`,
    );
  });

  it("reads the lifetime from each answer, never from a constant", async () => {
    google.lifetimeSeconds = 2;
    try {
      const minted = await mintGcp(keySpec(), input({ secret: secretWith({ "key.json": keyJson }) }));
      const left = (minted.expiresAt?.getTime() ?? 0) - Date.now();
      assert.ok(left > 0 && left <= 2000, `${left} ms left`);
    } finally {
      google.lifetimeSeconds = 7;
    }
  });

  it("takes the key secretRef.key names, by default key.json, else credentials.json", async () => {
    for (const [data, key] of [
      [{ "key.json": keyJson }, undefined],
      [{ "credentials.json": keyJson }, undefined],
      [{ "sa.json": keyJson, "key.json": "not this one" }, "sa.json"],
    ] as const) {
      const minted = await mintGcp(keySpec(key), input({ secret: secretWith(data) }));
      assert.equal(minted.identity, EMAIL, JSON.stringify(Object.keys(data)));
    }
  });

  it("never posts to the key file's token_uri, only to the token endpoint of the controller's flag", async () => {
    let decoyRequests = 0;
    const decoy = await listen((_request, _body, response) => {
      decoyRequests++;
      sendJson(response, 200, { access_token: "decoy", expires_in: 3600 });
    }, tls);
    try {
      const keyFile = { ...(JSON.parse(keyJson) as object), token_uri: `${decoy.url}/token` };
      const minted = await mintGcp(
        keySpec(),
        input({ secret: secretWith({ "key.json": JSON.stringify(keyFile) }) }),
      );
      assert.equal(minted.auths["gcr.io"]?.password, google.issued.at(-1));
      assert.equal(decoyRequests, 0);
    } finally {
      await decoy.close();
    }
  });

  it("a key whose private key is not the service account's is refused as invalid_grant, not retryable", async () => {
    const wrong = { ...(JSON.parse(keyJson) as object) };
    const otherKey = rsaKeyPair().privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    Object.assign(wrong, { private_key: otherKey });
    const wrongJson = JSON.stringify(wrong);
    const err = await refusal(mintGcp(keySpec(), input({ secret: secretWith({ "key.json": wrongJson }) })));
    assert.equal(err.retryable, false);
    assert.equal(err.message, `gcp: POST ${google.tokenUrl}: HTTP 400 invalid_grant`);
    assertSecretFree(err.message, wrongJson, keyJson);
  });

  it("a missing Secret, a missing key or a malformed key is refused, not retryable, naming the field but no content", async () => {
    const rsa = JSON.parse(keyJson) as Record<string, string>;
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    }) as string;
    const cases: [string, InputSecret | undefined, RegExp][] = [
      ["no Secret", undefined, /spec\.gcp\.secretRef: Secret "gcp-key" does not exist/],
      [
        "no key",
        secretWith({ other: keyJson }),
        /has no key "key\.json" or "credentials\.json".*secretRef\.key/,
      ],
      ["not JSON", secretWith({ "key.json": `{"private_key": "${rsa.private_key}"` }), /not JSON/],
      [
        "a user credential",
        secretWith({ "key.json": JSON.stringify({ ...rsa, type: "authorized_user" }) }),
        /type/,
      ],
      [
        "no email",
        secretWith({ "key.json": JSON.stringify({ ...rsa, client_email: undefined }) }),
        /client_email/,
      ],
      [
        "a broken key",
        secretWith({ "key.json": JSON.stringify({ ...rsa, private_key: "MIIE-secret" }) }),
        /PEM/,
      ],
      ["an EC key", secretWith({ "key.json": JSON.stringify({ ...rsa, private_key: ec }) }), /RSA/],
    ];
    const requests = google.requests;
    for (const [name, secret, expected] of cases) {
      const err = await refusal(mintGcp(keySpec(), input({ ...(secret && { secret }) })));
      assert.equal(err.retryable, false, name);
      assert.match(err.message, expected, name);
      assertSecretFree(err.message, keyJson, ec, "MIIE-secret");
    }
    assert.equal(google.requests, requests, "nothing was sent");
  });
});

describe("gcp token endpoint errors", () => {
  async function answering(status: number, body: unknown, headers = {}) {
    return listen((_request, _body, response) => sendJson(response, status, body, headers), tls);
  }
  async function mintAt(server: Loopback) {
    const endpoints = { gcpTokenUrl: `${server.url}/token`, acrRegistrySuffixes: [] };
    return refusal(mintGcp(keySpec(), input({ endpoints, secret: secretWith({ "key.json": keyJson }) })));
  }

  it("an answer without expires_in is an error: the lifetime is never assumed", async () => {
    const server = await answering(200, { access_token: "ya29.no-lifetime", token_type: "Bearer" });
    try {
      const err = await mintAt(server);
      assert.match(err.message, /no positive expires_in/);
      assert.ok(!err.message.includes("ya29.no-lifetime"));
    } finally {
      await server.close();
    }
  });

  it("a server error is retryable and names the endpoint and status, not the body", async () => {
    const server = await answering(503, { error: { message: `echo ${keyJson}` } });
    try {
      const err = await mintAt(server);
      assert.equal(err.retryable, true);
      assert.equal(err.message, `gcp: POST ${server.url}/token: HTTP 503`);
    } finally {
      await server.close();
    }
  });

  it("an abort is passed on as it is, not turned into a ProviderError", async () => {
    const silent = await listen(() => undefined, tls);
    try {
      const endpoints = { gcpTokenUrl: `${silent.url}/token`, acrRegistrySuffixes: [] };
      const controller = new AbortController();
      const minting = mintGcp(
        keySpec(),
        input({ endpoints, signal: controller.signal, secret: secretWith({ "key.json": keyJson }) }),
      );
      controller.abort();
      await assert.rejects(minting, { name: "AbortError" });
    } finally {
      await silent.close();
    }
  });

  it("a redirect is never followed, so the signed assertion goes nowhere else", async () => {
    const requests = google.requests;
    const server = await answering(307, {}, { location: google.tokenUrl });
    try {
      const err = await mintAt(server);
      assert.equal(err.retryable, true);
      assert.match(err.message, /redirect, which is never followed/);
      assert.equal(google.requests, requests);
    } finally {
      await server.close();
    }
  });
});

describe("the loopback Google token endpoint refuses what Google refuses", () => {
  const { privateKey } = rsaKeyPair();
  let sa: ServiceAccount;
  before(() => {
    sa = google.addServiceAccount("checks@test-project.iam.gserviceaccount.com");
  });

  async function post(form: Record<string, string>) {
    const response = await fetch(google.tokenUrl, { method: "POST", body: new URLSearchParams(form) });
    return { status: response.status, error: ((await response.json()) as { error?: string }).error };
  }
  const claims = (overrides: object = {}) => {
    const iat = Math.floor(Date.now() / 1000);
    return { iss: sa.email, scope: GCP_SCOPE, aud: google.tokenUrl, iat, exp: iat + 300, ...overrides };
  };
  const assertion = (overrides: object = {}, key: KeyObject = sa.privateKey) =>
    signJwt(claims(overrides), key, { kid: sa.keyId });

  it("accepts a well-formed assertion, and refuses each broken one", async () => {
    assert.equal((await post({ grant_type: JWT_BEARER, assertion: assertion() })).status, 200);
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Record<string, string>, string][] = [
      [
        "wrong grant type",
        { grant_type: "client_credentials", assertion: assertion() },
        "unsupported_grant_type",
      ],
      ["wrong key", { grant_type: JWT_BEARER, assertion: assertion({}, privateKey) }, "invalid_grant"],
      ["unknown iss", { grant_type: JWT_BEARER, assertion: assertion({ iss: "x@y.iam" }) }, "invalid_grant"],
      [
        "wrong aud",
        { grant_type: JWT_BEARER, assertion: assertion({ aud: "https://elsewhere/token" }) },
        "invalid_grant",
      ],
      [
        "expired",
        { grant_type: JWT_BEARER, assertion: assertion({ iat: now - 900, exp: now - 600 }) },
        "invalid_grant",
      ],
      [
        "over an hour",
        { grant_type: JWT_BEARER, assertion: assertion({ exp: now + 7200 }) },
        "invalid_grant",
      ],
      [
        "issued later",
        { grant_type: JWT_BEARER, assertion: assertion({ iat: now + 600, exp: now + 900 }) },
        "invalid_grant",
      ],
      [
        "other scope",
        { grant_type: JWT_BEARER, assertion: assertion({ scope: "https://x/auth" }) },
        "invalid_scope",
      ],
    ];
    for (const [name, form, error] of cases) {
      assert.deepEqual(await post(form), { status: 400, error }, name);
    }
  });
});

describe("gcp from the metadata server", () => {
  const env = () => ({ GCE_METADATA_HOST: metadata.host });

  it("takes the default service account's token, lifetime and email", async () => {
    const before = Date.now();
    const minted = await mintGcp({ registries: ["gcr.io"] }, input({ env: env() }));
    assert.deepEqual(minted.auths, {
      "gcr.io": { username: GCP_USERNAME, password: metadata.issued.at(-1) },
    });
    assert.equal(minted.identity, "wi@test-project.iam.gserviceaccount.com");
    const expiresAt = minted.expiresAt?.getTime() ?? 0;
    assert.ok(expiresAt >= before + 5000 && expiresAt <= Date.now() + 5000);
  });

  it("the loopback metadata server refuses a request without Metadata-Flavor: Google", async () => {
    const url = `${metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`;
    assert.equal((await fetch(url)).status, 403);
    assert.equal((await fetch(url, { headers: { "metadata-flavor": "Google" } })).status, 200);
  });

  it("a server that does not answer as a metadata server is not trusted", async () => {
    const impostor = await listen((_request, _body, response) =>
      sendJson(response, 200, { access_token: "ya29.impostor", expires_in: 3600 }),
    );
    try {
      const err = await refusal(
        mintGcp({ registries: ["gcr.io"] }, input({ env: { GCE_METADATA_HOST: impostor.host } })),
      );
      assert.match(err.message, /Metadata-Flavor: Google/);
      assert.ok(!err.message.includes("ya29.impostor"));
    } finally {
      await impostor.close();
    }
  });

  it("an unreachable metadata server is a retryable error naming it", async () => {
    const gone = await listen(() => undefined);
    await gone.close();
    const err = await refusal(
      mintGcp({ registries: ["gcr.io"] }, input({ env: { GCE_METADATA_HOST: gone.host } })),
    );
    assert.equal(err.retryable, true);
    assert.match(
      err.message,
      new RegExp(`gcp: GET http://${gone.host}/computeMetadata/v1/.*unreachable \\(ECONNREFUSED\\)`),
    );
  });
});
