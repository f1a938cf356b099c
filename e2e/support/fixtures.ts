// Builders for the objects e2e tests create, and readers that decode what the controller wrote.
import { isDeepStrictEqual } from "node:util";
import type { TestContext } from "node:test";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { ANNOTATION_IMAGE_PULL_SECRET, ANNOTATION_STATUS, GROUP, VERSION } from "../../src/constants.ts";
import { adminKubeConfig, eventually, ignoreNotFound, readUntil } from "./cluster.ts";

export type Auths = Record<string, Record<string, string>>;

const core = () => adminKubeConfig().makeApiClient(CoreV1Api);
const custom = () => adminKubeConfig().makeApiClient(CustomObjectsApi);

export const dockerConfig = (auths: Auths): string => JSON.stringify({ auths });

export async function createSource(namespace: string, name: string, auths: Auths): Promise<void> {
  await core().createNamespacedSecret({
    namespace,
    body: {
      metadata: { name },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": dockerConfig(auths) },
    },
  });
}

export async function updateSource(namespace: string, name: string, auths: Auths): Promise<void> {
  await core().patchNamespacedSecret({
    namespace,
    name,
    body: [
      {
        op: "replace",
        path: "/data",
        value: { ".dockerconfigjson": Buffer.from(dockerConfig(auths)).toString("base64") },
      },
    ],
  });
}

/** Creates a SecretExport that is deleted (and waited for) when the test ends, before its namespace. */
export async function createExport(
  t: TestContext,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
): Promise<void> {
  await custom().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "secretexports",
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: "SecretExport", metadata: { name, annotations }, spec },
  });
  t.after(() => deleteExport(namespace, name));
}

export async function deleteExport(namespace: string, name: string): Promise<void> {
  await custom()
    .deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: "secretexports",
      name,
    })
    .catch(ignoreNotFound);
}

export async function createPlaceholder(
  namespace: string,
  name = "pull",
  options: { type?: string; data?: Record<string, string> } = {},
): Promise<void> {
  await core().createNamespacedSecret({
    namespace,
    body: {
      metadata: { name, annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "" } },
      type: options.type ?? "kubernetes.io/dockerconfigjson",
      stringData: options.data ?? (options.type ? {} : { ".dockerconfigjson": "{}" }),
    },
  });
}

export interface PlaceholderRead {
  auths: Auths | undefined;
  status: Record<string, unknown> | undefined;
  resourceVersion: string;
  data: Record<string, string>;
}

export async function readPlaceholder(namespace: string, name = "pull"): Promise<PlaceholderRead> {
  const secret = await core().readNamespacedSecret({ namespace, name });
  const raw = secret.data?.[".dockerconfigjson"];
  const statusText = secret.metadata?.annotations?.[ANNOTATION_STATUS];
  return {
    auths:
      raw === undefined
        ? undefined
        : (JSON.parse(Buffer.from(raw, "base64").toString()) as { auths: Auths }).auths,
    status: statusText === undefined ? undefined : (JSON.parse(statusText) as Record<string, unknown>),
    resourceVersion: secret.metadata?.resourceVersion ?? "",
    data: secret.data ?? {},
  };
}

/** Waits until the placeholder holds exactly these auths; fails with the last content seen. */
export const expectAuths = (namespace: string, expected: Auths, name = "pull", timeoutMs = 15_000) =>
  readUntil(
    `placeholder ${namespace}/${name} holds ${JSON.stringify(expected)}`,
    () => readPlaceholder(namespace, name),
    (read) => isDeepStrictEqual(read.auths, expected),
    lastPlaceholderSeen,
    timeoutMs,
  );

/** How a timed-out wait on a placeholder shows what it last read. */
export const lastPlaceholderSeen = (last: PlaceholderRead | undefined): string =>
  `last seen ${JSON.stringify(last?.auths)} status ${JSON.stringify(last?.status)}`;

export async function readExport(
  namespace: string,
  name: string,
): Promise<{ status?: Record<string, unknown>; metadata?: { generation?: number } }> {
  return (await custom().getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "secretexports",
    name,
  })) as never;
}

/** Waits until the export's Ready condition has this reason; returns that condition. */
export async function expectReadyReason(
  namespace: string,
  name: string,
  reason: string,
): Promise<Record<string, unknown>> {
  return eventually(`export ${namespace}/${name} Ready reason ${reason}`, async () => {
    const conditions = (await readExport(namespace, name)).status?.conditions as
      Record<string, unknown>[] | undefined;
    return conditions?.find((c) => c.type === "Ready" && c.reason === reason);
  });
}

/** A credential entry, with auth derived from username and password as docker does. */
export const cred = (username: string, password: string): Record<string, string> => ({
  username,
  password,
  auth: Buffer.from(`${username}:${password}`).toString("base64"),
});

/** Creates a Secret of any type from plain-text values (stringData). */
export async function createTypedSecret(
  namespace: string,
  name: string,
  type: string,
  values: Record<string, string>,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Promise<void> {
  await core().createNamespacedSecret({
    namespace,
    body: { metadata: { name, ...metadata }, type, stringData: values },
  });
}

/** The Secret as stored, or undefined when there is none. */
export async function readSecretIfAny(namespace: string, name: string) {
  return core().readNamespacedSecret({ namespace, name }).catch(ignoreNotFound);
}

/** Secret data decoded to plain text. */
export const decodedData = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));

/** Creates a SecretImport that is deleted when the test ends (if the test has not deleted it). */
export async function createImport(
  t: TestContext,
  namespace: string,
  name: string,
  fromNamespace: string,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Promise<{ uid: string }> {
  const created = (await custom().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "secretimports",
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "SecretImport",
      metadata: { name, ...metadata },
      spec: { fromNamespace },
    },
  })) as { metadata: { uid: string } };
  t.after(() => deleteImport(namespace, name));
  return { uid: created.metadata.uid };
}

export async function deleteImport(namespace: string, name: string): Promise<void> {
  await custom()
    .deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: "secretimports",
      name,
    })
    .catch(ignoreNotFound);
}

export interface ImportRead {
  metadata: { uid: string; resourceVersion: string; generation?: number };
  status?: {
    friendlyDescription?: string;
    observedGeneration?: number;
    conditions?: Record<string, unknown>[];
  };
}

export async function readImport(namespace: string, name: string): Promise<ImportRead> {
  return (await custom().getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "secretimports",
    name,
  })) as ImportRead;
}

/** Waits until the SecretImport's Ready condition has this reason; returns the SecretImport. */
export const expectImportReason = (namespace: string, name: string, reason: string, timeoutMs = 15_000) =>
  readUntil(
    `import ${namespace}/${name} Ready reason ${reason}`,
    () => readImport(namespace, name),
    (read) => read.status?.conditions?.find((c) => c.type === "Ready")?.reason === reason,
    (last) => `last status ${JSON.stringify(last?.status)}`,
    timeoutMs,
  );
