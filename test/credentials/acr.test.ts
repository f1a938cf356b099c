import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ProviderError, type InputSecret, type ProviderInput } from "../../src/credentials/provider.ts";
import { ACR_USERNAME, mintAcr } from "../../src/credentials/providers/acr.ts";
import {
  type Aad,
  type AcrRegistry,
  CLIENT_ASSERTION as CLIENT_ASSERTION_TYPE,
  FEDERATED_AUDIENCE,
  type ManagedIdentityServer,
  startAad,
  startAcrRegistry,
  startManagedIdentity,
} from "../support/azure.ts";
import { decodeJwt, rsaKeyPair, signJwt } from "../support/jwt.ts";
import { createTestTls, listen, sendJson, type TestTls, trustInProcess } from "../support/loopback.ts";

const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const CLIENT_SECRET = "sp-secret~0123456789abcdefABCDEF";
const WI_CLIENT_ID = "66666666-7777-8888-9999-000000000000";
const MI_CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const IDENTITY_HEADER = "identity-header-secret-0123456789";
const SUBJECT = "system:serviceaccount:secret-export:secret-export-controller";

let tls: TestTls;
let aad: Aad;
let registry: AcrRegistry;
let identity: ManagedIdentityServer;
let dir: string;
const issuer = rsaKeyPair();

before(async () => {
  tls = await createTestTls();
  trustInProcess(tls);
  // AAD tokens live an hour, refresh tokens 9 s: the expiry must come from the refresh token.
  aad = await startAad({ tls, lifetimeSeconds: 3600 });
  aad.addClientSecret(CLIENT_ID, CLIENT_SECRET);
  aad.addFederatedCredential(WI_CLIENT_ID, issuer.publicKey, SUBJECT);
  registry = await startAcrRegistry({ tls, aad, lifetimeSeconds: 9 });
  identity = await startManagedIdentity({ aad, clientID: MI_CLIENT_ID, identityHeader: IDENTITY_HEADER });
  dir = await mkdtemp(join(tmpdir(), "sec-acr-"));
});
after(async () => {
  await aad?.close();
  await registry?.close();
  await identity?.close();
  await tls?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const spPair = { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET };
const secretWith = (data: Record<string, string>): InputSecret => ({
  type: "Opaque",
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])),
});
const spec = (overrides: object = {}) => ({ registry: registry.host, tenantID: aad.tenantID, ...overrides });
const spSpec = (overrides: object = {}) => spec({ secretRef: { name: "acr-sp" }, ...overrides });

function input(overrides: Partial<ProviderInput> = {}): ProviderInput {
  return {
    env: { AZURE_AUTHORITY_HOST: aad.authorityHost },
    endpoints: { gcpTokenUrl: "https://oauth2.googleapis.com/token", acrRegistrySuffixes: [registry.host] },
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
  for (const secret of [CLIENT_SECRET, IDENTITY_HEADER, ...registry.issued]) {
    assert.ok(!err.message.includes(secret), `message leaks a secret: ${err.message}`);
  }
  return err;
}

function assertExpiresWithRefreshToken(expiresAt: Date | undefined) {
  const token = registry.issued.at(-1) ?? "";
  assert.equal(expiresAt?.getTime(), (decodeJwt(token)?.claims.exp as number) * 1000);
  const left = (expiresAt?.getTime() ?? 0) - Date.now();
  assert.ok(left > 0 && left <= 9000, `${left} ms left, not the AAD token's hour`);
}

describe("acr with a service principal", () => {
  it("exchanges the AAD token for a refresh token, written with the all-zero username and expiring at its exp", async () => {
    const minted = await mintAcr(spSpec(), input({ secret: secretWith(spPair) }));
    assert.deepEqual(minted.auths, {
      [registry.host]: { username: ACR_USERNAME, password: registry.issued.at(-1) },
    });
    assert.equal(minted.identity, CLIENT_ID);
    assertExpiresWithRefreshToken(minted.expiresAt);
  });

  it("a wrong client secret is refused as invalid_client, not retryable, and the message holds no secret", async () => {
    const secret = secretWith({ clientID: CLIENT_ID, clientSecret: "wrong-secret-0123456789" });
    const err = await refusal(mintAcr(spSpec(), input({ secret })));
    assert.equal(err.retryable, false);
    assert.equal(
      err.message,
      `acr: POST ${aad.url}/${aad.tenantID}/oauth2/v2.0/token: HTTP 401 invalid_client (AADSTS7000215)`,
    );
    assert.ok(!err.message.includes("wrong-secret-0123456789"));
  });

  it("an unknown tenant is an error naming the endpoint, status and AADSTS code", async () => {
    const other = "00000000-1111-2222-3333-444444444444";
    const err = await refusal(mintAcr(spSpec({ tenantID: other }), input({ secret: secretWith(spPair) })));
    assert.match(
      err.message,
      new RegExp(`/${other}/oauth2/v2.0/token: HTTP 400 invalid_request \\(AADSTS90002\\)`),
    );
  });

  it("a missing Secret or a missing key is refused, not retryable, naming the field", async () => {
    const cases: [InputSecret | undefined, RegExp][] = [
      [undefined, /spec\.acr\.secretRef: Secret "acr-sp" does not exist/],
      [secretWith({ clientID: CLIENT_ID }), /has no key "clientSecret"/],
      [secretWith({ clientSecret: CLIENT_SECRET }), /has no key "clientID"/],
    ];
    const requests = aad.requests;
    for (const [secret, expected] of cases) {
      const err = await refusal(mintAcr(spSpec(), input({ ...(secret && { secret }) })));
      assert.equal(err.retryable, false);
      assert.match(err.message, expected);
    }
    assert.equal(aad.requests, requests);
  });
});

describe("acr registry hosts", () => {
  it("a registry without an allowed suffix is refused before any token is requested", async () => {
    const requests = aad.requests + registry.requests;
    const suffixes = [".azurecr.io"];
    for (const host of [
      "registry.example.com",
      "azurecr.io",
      "evil.example.com/x?.azurecr.io",
      "evil.example.com#.azurecr.io",
      "user@evil.example.com.azurecr.io",
      "https://x.azurecr.io",
    ]) {
      const endpoints = { gcpTokenUrl: "", acrRegistrySuffixes: suffixes };
      const err = await refusal(
        mintAcr(spSpec({ registry: host }), input({ endpoints, secret: secretWith(spPair) })),
      );
      assert.equal(err.retryable, false, host);
      assert.match(
        err.message,
        /spec\.acr\.registry ".*" is not an Azure Container Registry host.*\.azurecr\.io/,
        host,
      );
    }
    assert.equal(aad.requests + registry.requests, requests);
  });

  it("an AAD token the registry does not accept (another tenant) is an error naming the exchange", async () => {
    const env = { AZURE_POD_IDENTITY_AUTHORITY_HOST: identity.url };
    const err = await refusal(mintAcr(spec({ tenantID: "contoso.onmicrosoft.com" }), input({ env })));
    assert.equal(err.message, `acr: POST https://${registry.host}/oauth2/exchange: HTTP 401 UNAUTHORIZED`);
  });

  it("a refresh token without exp is an error: the lifetime is never assumed", async () => {
    const opaque = await listen(
      (_request, _body, response) => sendJson(response, 200, { refresh_token: "opaque-rt" }),
      tls,
    );
    try {
      const endpoints = { gcpTokenUrl: "", acrRegistrySuffixes: [opaque.host] };
      const err = await refusal(
        mintAcr(spSpec({ registry: opaque.host }), input({ endpoints, secret: secretWith(spPair) })),
      );
      assert.match(err.message, /refresh token has no exp claim/);
      assert.ok(!err.message.includes("opaque-rt"));
    } finally {
      await opaque.close();
    }
  });
});

describe("acr with Azure Workload Identity", () => {
  const federatedToken = (subject = SUBJECT) => {
    const iat = Math.floor(Date.now() / 1000);
    return signJwt(
      { iss: "https://oidc.test", sub: subject, aud: FEDERATED_AUDIENCE, iat, exp: iat + 3600 },
      issuer.privateKey,
    );
  };
  const wiEnv = (file: string, overrides: NodeJS.ProcessEnv = {}) => ({
    AZURE_AUTHORITY_HOST: aad.authorityHost,
    AZURE_CLIENT_ID: WI_CLIENT_ID,
    AZURE_TENANT_ID: aad.tenantID,
    AZURE_FEDERATED_TOKEN_FILE: file,
    ...overrides,
  });

  it("presents the projected token as client assertion, reading the file again on every mint", async () => {
    const file = join(dir, "token");
    await writeFile(file, federatedToken());
    const minted = await mintAcr(spec(), input({ env: wiEnv(file) }));
    assert.equal(minted.identity, WI_CLIENT_ID);
    assert.equal(minted.auths[registry.host]?.password, registry.issued.at(-1));
    assertExpiresWithRefreshToken(minted.expiresAt);

    await writeFile(file, federatedToken("system:serviceaccount:other:other"));
    const err = await refusal(mintAcr(spec(), input({ env: wiEnv(file) })));
    assert.match(err.message, /HTTP 401 invalid_client/);
  });

  it("a tenant other than AZURE_TENANT_ID, or no AZURE_CLIENT_ID, is refused before any call", async () => {
    const file = join(dir, "token");
    await writeFile(file, federatedToken());
    const requests = aad.requests;
    const other = await refusal(
      mintAcr(spec({ tenantID: "contoso.onmicrosoft.com" }), input({ env: wiEnv(file) })),
    );
    assert.equal(other.retryable, false);
    assert.match(
      other.message,
      /spec\.acr\.tenantID "contoso\.onmicrosoft\.com" differs from .*AZURE_TENANT_ID/,
    );
    const noClient = await refusal(mintAcr(spec(), input({ env: wiEnv(file, { AZURE_CLIENT_ID: "" }) })));
    assert.equal(noClient.retryable, false);
    assert.match(noClient.message, /AZURE_CLIENT_ID is not/);
    assert.equal(aad.requests, requests);
  });

  it("an unreadable token file is a retryable error naming the variable", async () => {
    const err = await refusal(mintAcr(spec(), input({ env: wiEnv(join(dir, "absent")) })));
    assert.equal(err.retryable, true);
    assert.match(err.message, /AZURE_FEDERATED_TOKEN_FILE .*absent: ENOENT/);
  });
});

describe("acr with a managed identity", () => {
  it("asks IMDS for the user-assigned identity AZURE_CLIENT_ID names", async () => {
    const env = { AZURE_POD_IDENTITY_AUTHORITY_HOST: identity.url, AZURE_CLIENT_ID: MI_CLIENT_ID };
    const minted = await mintAcr(spec(), input({ env }));
    assert.equal(minted.identity, MI_CLIENT_ID);
    assertExpiresWithRefreshToken(minted.expiresAt);

    const wrong = { ...env, AZURE_CLIENT_ID: CLIENT_ID };
    const err = await refusal(mintAcr(spec(), input({ env: wrong })));
    assert.match(
      err.message,
      new RegExp(`GET ${identity.url}/metadata/identity/oauth2/token: HTTP 400 invalid_request$`),
    );
  });

  it("uses IDENTITY_ENDPOINT with IDENTITY_HEADER where App Service-style variables exist", async () => {
    const env = { IDENTITY_ENDPOINT: identity.identityEndpoint, IDENTITY_HEADER: IDENTITY_HEADER };
    const minted = await mintAcr(spec(), input({ env }));
    assert.equal(minted.identity, MI_CLIENT_ID);
    assertExpiresWithRefreshToken(minted.expiresAt);

    const err = await refusal(mintAcr(spec(), input({ env: { ...env, IDENTITY_HEADER: "stale" } })));
    assert.match(err.message, /GET http:\/\/.*\/msi\/token: HTTP 400/);
  });

  it("the loopback IMDS refuses a request without the Metadata header", async () => {
    const url = `${identity.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://containerregistry.azure.net`;
    assert.equal((await fetch(url)).status, 400);
    assert.equal((await fetch(url, { headers: { metadata: "true" } })).status, 200);
  });
});

describe("the loopback Entra ID and registry refuse what the real ones refuse", () => {
  async function post(url: string, form: Record<string, string>) {
    const response = await fetch(url, { method: "POST", body: new URLSearchParams(form) });
    const body = (await response.json()) as { error?: string; errors?: { code: string }[] };
    return { status: response.status, error: body.error ?? body.errors?.[0]?.code };
  }

  it("the token endpoint checks grant type, client, secret or assertion, and scope", async () => {
    const url = `${aad.url}/${aad.tenantID}/oauth2/v2.0/token`;
    const good = {
      grant_type: "client_credentials",
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope: "https://containerregistry.azure.net/.default",
    };
    assert.equal((await post(url, good)).status, 200);
    const { client_secret: _, ...assertionForm } = { ...good, client_id: WI_CLIENT_ID };
    const expired = signJwt({ sub: SUBJECT, aud: FEDERATED_AUDIENCE, iat: 1, exp: 2 }, issuer.privateKey);
    const cases: [string, Record<string, string>, string][] = [
      ["grant type", { ...good, grant_type: "password" }, "unsupported_grant_type"],
      [
        "unknown client",
        { ...good, client_id: "99999999-0000-0000-0000-000000000000" },
        "unauthorized_client",
      ],
      ["wrong secret", { ...good, client_secret: "nope" }, "invalid_client"],
      ["no secret", { ...assertionForm, client_id: CLIENT_ID }, "invalid_client"],
      ["ARM scope", { ...good, scope: "https://management.azure.com/.default" }, "invalid_scope"],
      [
        "expired assertion",
        { ...assertionForm, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: expired },
        "invalid_client",
      ],
      ["no assertion type", { ...assertionForm, client_assertion: expired }, "invalid_client"],
    ];
    for (const [name, form, error] of cases) {
      assert.equal((await post(url, form)).error, error, name);
    }
  });

  it("the exchange checks grant type, service, tenant and the AAD token", async () => {
    const url = `${registry.url}/oauth2/exchange`;
    const good = {
      grant_type: "access_token",
      service: registry.host,
      tenant: aad.tenantID,
      access_token: aad.issue(CLIENT_ID),
    };
    assert.equal((await post(url, good)).status, 200);
    const foreign = signJwt(
      { aud: "https://containerregistry.azure.net", tid: aad.tenantID, iat: 1, exp: 4102444800 },
      issuer.privateKey,
    );
    const cases: [string, Record<string, string>, number][] = [
      ["grant type", { ...good, grant_type: "refresh_token" }, 400],
      ["service", { ...good, service: "other.azurecr.io" }, 400],
      ["tenant", { ...good, tenant: "contoso.onmicrosoft.com" }, 401],
      ["unsigned by the tenant", { ...good, access_token: foreign }, 401],
    ];
    for (const [name, form, status] of cases) {
      assert.equal((await post(url, form)).status, status, name);
    }
  });
});
