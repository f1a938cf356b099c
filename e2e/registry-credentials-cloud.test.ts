// RegistryCredentials of the gcp and acr providers through the controller process, against
// loopback servers that verify what Google and Entra ID verify. The controller finds them only
// the way it finds the real ones: GCE_METADATA_HOST, AZURE_AUTHORITY_HOST, the Azure Workload
// Identity variables, --gcp-token-url and --acr-registry-suffixes (and trusts their CA through
// NODE_EXTRA_CA_CERTS). Lifetimes are seconds, so refreshes before expiry are observed as they happen.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { OWN_GROUP, REGISTRY_CREDENTIAL_PLURAL } from "../src/constants.ts";
import { ACR_USERNAME } from "../src/credentials/providers/acr.ts";
import { GCP_SCOPE, GCP_USERNAME } from "../src/credentials/providers/gcp.ts";
import {
  type Aad,
  type AcrRegistry,
  FEDERATED_AUDIENCE,
  startAad,
  startAcrRegistry,
} from "../test/support/azure.ts";
import {
  type GoogleTokenServer,
  type MetadataServer,
  type ServiceAccount,
  startGoogleTokenServer,
  startMetadataServer,
} from "../test/support/google.ts";
import { decodeJwt, rsaKeyPair, signJwt } from "../test/support/jwt.ts";
import { createTestTls, type TestTls } from "../test/support/loopback.ts";
import { eventually, testNamespace } from "./support/cluster.ts";
import { core, customObjects, installCrds } from "./support/controller.ts";
import { type ControllerProcess, startControllerProcess } from "./support/controller-process.ts";
import {
  type Auths,
  createExport,
  createPlaceholder,
  createTypedSecret,
  readPlaceholder,
} from "./support/fixtures.ts";
import { CONTROLLER_NAMESPACE, controllerKubeConfigFile } from "./support/rbac.ts";

const LIFETIME_SECONDS = 10;
const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const CLIENT_SECRET = "e2e-sp-secret~0123456789abcdef";
const WI_EMAIL = "wi@e2e-project.iam.gserviceaccount.com";
const WI_CLIENT_ID = "66666666-7777-8888-9999-000000000000";
const WI_SUBJECT = "system:serviceaccount:secret-export-controller:secret-export-controller";
/** Refresh at half the lifetime; a margin of 2 s keeps the controller from clamping it. */
const REFRESH = { lifetimeFraction: 0.5, marginSeconds: 2 };

let tls: TestTls;
let google: GoogleTokenServer;
let metadata: MetadataServer;
let aad: Aad;
let registry: AcrRegistry;
let account: ServiceAccount;
let controller: ControllerProcess;
let tokenDir: string;

before(async () => {
  await installCrds();
  tls = await createTestTls();
  google = await startGoogleTokenServer({ tls, scope: GCP_SCOPE, lifetimeSeconds: LIFETIME_SECONDS });
  metadata = await startMetadataServer({ email: WI_EMAIL, lifetimeSeconds: LIFETIME_SECONDS });
  aad = await startAad({ tls, lifetimeSeconds: 3600 });
  aad.addClientSecret(CLIENT_ID, CLIENT_SECRET);
  registry = await startAcrRegistry({ tls, aad, lifetimeSeconds: LIFETIME_SECONDS });
  account = google.addServiceAccount("puller@e2e-project.iam.gserviceaccount.com");
  // The token the Azure Workload Identity webhook would project for the controller's ServiceAccount.
  const issuer = rsaKeyPair();
  aad.addFederatedCredential(WI_CLIENT_ID, issuer.publicKey, WI_SUBJECT);
  tokenDir = await mkdtemp(join(tmpdir(), "sec-e2e-wi-"));
  const iat = Math.floor(Date.now() / 1000);
  const claims = { iss: "https://oidc.e2e", sub: WI_SUBJECT, aud: FEDERATED_AUDIENCE, iat, exp: iat + 3600 };
  await writeFile(join(tokenDir, "azure-identity-token"), signJwt(claims, issuer.privateKey));
  controller = startControllerProcess(
    [
      "--kubeconfig",
      await controllerKubeConfigFile(),
      "--leader-elect",
      "false",
      "--log-level",
      "debug",
      "--gcp-token-url",
      google.tokenUrl,
      "--acr-registry-suffixes",
      registry.host,
    ],
    {
      POD_NAMESPACE: CONTROLLER_NAMESPACE,
      NODE_EXTRA_CA_CERTS: tls.caFile,
      GCE_METADATA_HOST: metadata.host,
      AZURE_AUTHORITY_HOST: aad.authorityHost,
      AZURE_CLIENT_ID: WI_CLIENT_ID,
      AZURE_TENANT_ID: aad.tenantID,
      AZURE_FEDERATED_TOKEN_FILE: join(tokenDir, "azure-identity-token"),
    },
  );
});

after(async () => {
  await controller?.stop();
  await Promise.all([google?.close(), metadata?.close(), aad?.close(), registry?.close()]);
  await tls?.remove();
  if (tokenDir) await rm(tokenDir, { recursive: true, force: true });
});

interface CredentialStatus {
  conditions?: { type: string; status: string; reason: string; message: string }[];
  identity?: string;
  expiresAt?: string;
  lastRefreshTime?: string;
  nextRefreshTime?: string;
}

async function createRegistryCredential(t: TestContext, namespace: string, name: string, spec: object) {
  const api = customObjects();
  const target = { group: OWN_GROUP, version: "v1alpha1", namespace, plural: REGISTRY_CREDENTIAL_PLURAL };
  await api.createNamespacedCustomObject({
    ...target,
    body: { apiVersion: `${OWN_GROUP}/v1alpha1`, kind: "RegistryCredential", metadata: { name }, spec },
  });
  t.after(() => api.deleteNamespacedCustomObject({ ...target, name }).catch(() => undefined));
}

async function statusOf(namespace: string, name: string): Promise<CredentialStatus> {
  const object = (await customObjects().getNamespacedCustomObject({
    group: OWN_GROUP,
    version: "v1alpha1",
    namespace,
    plural: REGISTRY_CREDENTIAL_PLURAL,
    name,
  })) as { status?: CredentialStatus };
  return object.status ?? {};
}

const ready = (status: CredentialStatus) => status.conditions?.find((c) => c.type === "Ready");
const passwords = (auths: Auths | undefined) => new Set(Object.values(auths ?? {}).map((a) => a.password));

/** Waits until the placeholder holds one password for exactly `registries`, other than `not`; returns it. */
async function placeholderPassword(app: string, registries: string[], username: string, not?: string) {
  return eventually(
    `placeholder ${app}/pull holds a ${username} credential for ${registries.join(", ")}`,
    async () => {
      const { auths } = await readPlaceholder(app);
      const entries = Object.entries(auths ?? {});
      const [password, more] = [...passwords(auths)];
      const right =
        entries.length === registries.length &&
        registries.every((r) => auths?.[r]?.username === username) &&
        more === undefined &&
        password !== undefined &&
        password !== not;
      return right ? password : undefined;
    },
    30_000,
  );
}

/**
 * The credential is refreshed before it expires: a second one reaches the placeholder, minted
 * (lastRefreshTime) before the first one's expiresAt, at half the reported lifetime within jitter.
 */
async function assertRefreshedBeforeExpiry(
  t: TestContext,
  namespace: string,
  name: string,
  app: string,
  registries: string[],
  username: string,
  first: string,
) {
  const firstStatus = await eventually("status of the first credential", async () => {
    const status = await statusOf(namespace, name);
    return ready(status)?.reason === "Refreshed" && status.expiresAt ? status : undefined;
  });
  const refreshedAt = Date.parse(firstStatus.lastRefreshTime ?? "");
  const expiresAt = Date.parse(firstStatus.expiresAt ?? "");
  const lifetime = expiresAt - refreshedAt;
  // Status times are whole seconds, and an exp claim is the server's whole second: a second of slack.
  assert.ok(
    lifetime > 0 && lifetime <= (LIFETIME_SECONDS + 1) * 1000,
    `lifetime ${lifetime} ms, read from the response`,
  );
  const planned = Date.parse(firstStatus.nextRefreshTime ?? "") - refreshedAt;
  assert.ok(
    planned >= lifetime * 0.45 - 1000 && planned <= lifetime * 0.55,
    `refresh planned after ${planned} of ${lifetime} ms`,
  );

  const second = await placeholderPassword(app, registries, username, first);
  const secondStatus = await statusOf(namespace, name);
  assert.ok(
    Date.parse(secondStatus.lastRefreshTime ?? "") < expiresAt,
    "minted again before the first expired",
  );
  const minted = Date.parse(secondStatus.lastRefreshTime ?? "") - refreshedAt;
  t.diagnostic(
    `${namespace}/${name}: lifetime ${lifetime} ms (read from the response), refresh planned after ${planned} ms, ` +
      `the next credential minted ${minted} ms after the first (status times are whole seconds)`,
  );
  return second;
}

/** No key, secret or token the loopback servers know appears in the controller's log or in `namespaces`' Events. */
async function assertNothingLeaked(...namespaces: string[]) {
  const secrets = [
    CLIENT_SECRET,
    ...(account.keyFile.private_key ?? "").split("\n").filter((line) => line.length > 40),
    ...google.issued,
    ...metadata.issued,
    ...aad.issued,
    ...registry.issued,
  ];
  const log = await controller.log();
  assert.ok(log.includes("secret-export-controller"), "the controller logged");
  for (const namespace of namespaces) {
    const events = (await core().listNamespacedEvent({ namespace })).items
      .map((e) => e.message ?? "")
      .join("\n");
    for (const secret of secrets) assert.ok(!events.includes(secret), `a secret in an Event in ${namespace}`);
  }
  for (const secret of secrets) assert.ok(!log.includes(secret), "a secret in the controller's log");
}

async function exported(t: TestContext, prefix: string) {
  const namespace = await testNamespace(t, prefix);
  const app = await testNamespace(t, `${prefix}-app`);
  await createPlaceholder(app);
  return { namespace, app };
}

describe("RegistryCredential through the controller", () => {
  test("gcp with a service-account key: an access token in every placeholder, refreshed before it expires, the key never written", async (t) => {
    const { namespace, app } = await exported(t, "gcp-key");
    await createTypedSecret(namespace, "gcp-key", "Opaque", { "key.json": account.keyJson });
    const registries = ["europe-docker.pkg.dev", "gcr.io"];
    await createRegistryCredential(t, namespace, "pull", {
      gcp: { registries, secretRef: { name: "gcp-key" } },
      refresh: REFRESH,
    });
    await createExport(t, namespace, "pull", { toNamespace: app });

    const first = await placeholderPassword(app, registries, GCP_USERNAME);
    assert.ok(google.issued.includes(first), "the token the token endpoint issued");
    assert.equal((await statusOf(namespace, "pull")).identity, account.email);
    const second = await assertRefreshedBeforeExpiry(
      t,
      namespace,
      "pull",
      app,
      registries,
      GCP_USERNAME,
      first,
    );
    assert.ok(google.issued.includes(second));

    const written = await core().readNamespacedSecret({ namespace, name: "pull" });
    const content = Buffer.from(written.data?.[".dockerconfigjson"] ?? "", "base64").toString();
    assert.ok(
      !content.includes("PRIVATE KEY") && !content.includes(account.keyId),
      "the key is never written",
    );
    await assertNothingLeaked(namespace, app);
  });

  test("gcp without secretRef: the metadata server's token and service account", async (t) => {
    const { namespace, app } = await exported(t, "gcp-wi");
    await createRegistryCredential(t, namespace, "pull", {
      gcp: { registries: ["gcr.io"] },
      refresh: REFRESH,
    });
    await createExport(t, namespace, "pull", { toNamespace: app });

    const first = await placeholderPassword(app, ["gcr.io"], GCP_USERNAME);
    assert.ok(metadata.issued.includes(first));
    assert.equal((await statusOf(namespace, "pull")).identity, WI_EMAIL);
    await assertNothingLeaked(namespace, app);
  });

  test("acr with a service principal: a refresh token expiring at its exp claim, refreshed before it expires", async (t) => {
    const { namespace, app } = await exported(t, "acr-sp");
    await createTypedSecret(namespace, "acr-sp", "Opaque", {
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    await createRegistryCredential(t, namespace, "pull", {
      acr: { registry: registry.host, tenantID: aad.tenantID, secretRef: { name: "acr-sp" } },
      refresh: REFRESH,
    });
    await createExport(t, namespace, "pull", { toNamespace: app });

    const first = await placeholderPassword(app, [registry.host], ACR_USERNAME);
    assert.ok(registry.issued.includes(first));
    const status = await statusOf(namespace, "pull");
    assert.equal(status.identity, CLIENT_ID);
    assert.equal(Date.parse(status.expiresAt ?? ""), (decodeJwt(first)?.claims.exp as number) * 1000);
    await assertRefreshedBeforeExpiry(t, namespace, "pull", app, [registry.host], ACR_USERNAME, first);
    await assertNothingLeaked(namespace, app);
  });

  test("acr without secretRef: the controller's Azure Workload Identity, its projected token as client assertion", async (t) => {
    const { namespace, app } = await exported(t, "acr-wi");
    await createRegistryCredential(t, namespace, "pull", {
      acr: { registry: registry.host, tenantID: aad.tenantID },
      refresh: REFRESH,
    });
    await createExport(t, namespace, "pull", { toNamespace: app });

    const first = await placeholderPassword(app, [registry.host], ACR_USERNAME);
    assert.ok(registry.issued.includes(first));
    assert.equal((await statusOf(namespace, "pull")).identity, WI_CLIENT_ID);
    await assertNothingLeaked(namespace, app);
  });

  test("acr with a registry outside --acr-registry-suffixes is refused before any token is requested", async (t) => {
    const { namespace } = await exported(t, "acr-evil");
    await createTypedSecret(namespace, "acr-sp", "Opaque", {
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    const requests = aad.requests;
    await createRegistryCredential(t, namespace, "pull", {
      acr: { registry: "collector.example.com", tenantID: aad.tenantID, secretRef: { name: "acr-sp" } },
    });
    const condition = await eventually("Ready=False RefreshFailed", async () => {
      const found = ready(await statusOf(namespace, "pull"));
      return found?.reason === "RefreshFailed" ? found : undefined;
    });
    assert.equal(condition.status, "False");
    assert.match(
      condition.message,
      /spec\.acr\.registry "collector\.example\.com" is not an Azure Container Registry host/,
    );
    assert.equal(aad.requests, requests);
    await assertNothingLeaked(namespace);
  });
});
