// Helpers for the export and placeholder e2e tests: changing namespaces, exports and sources in
// place, reading a placeholder's status annotation and an export's Ready condition, and Events.
import { isDeepStrictEqual } from "node:util";
import type { TestContext } from "node:test";
import { CoreV1Api, CustomObjectsApi, type CoreV1Event } from "@kubernetes/client-node";
import {
  ANNOTATION_EXCLUDED_FROM_WILDCARD,
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_WEIGHT,
  DOCKER_CONFIG_JSON_KEY,
  GROUP,
  VERSION,
} from "../../src/constants.ts";
import { adminKubeConfig, eventually, ignoreNotFound, readUntil, uniqueName } from "./cluster.ts";
import {
  type Auths,
  createExport,
  createSource,
  lastPlaceholderSeen,
  readExport,
  readPlaceholder,
  type PlaceholderRead,
} from "./fixtures.ts";

const core = () => adminKubeConfig().makeApiClient(CoreV1Api);
const custom = () => adminKubeConfig().makeApiClient(CustomObjectsApi);

/**
 * A prefix no other test shares, for globs and label values: "p" and 6 hex digits, so namespaces
 * built on it stay well under 63 characters.
 */
export const uniquePrefix = (): string => uniqueName("p").slice(0, 8);

/** A registry host of this test only. */
export const uniqueRegistry = (what: string): string => `${uniqueName(what)}.registry.example`;

type StringMap = Record<string, string>;

/** Replaces all labels of a namespace (the API server keeps kubernetes.io/metadata.name). */
export const setNamespaceLabels = (name: string, labels: StringMap) =>
  core().patchNamespace({ name, body: [{ op: "add", path: "/metadata/labels", value: labels }] });

/** Replaces all annotations of a namespace. */
export const setNamespaceAnnotations = (name: string, annotations: StringMap) =>
  core().patchNamespace({ name, body: [{ op: "add", path: "/metadata/annotations", value: annotations }] });

export const excludeFromWildcards = (name: string, excluded: boolean) =>
  setNamespaceAnnotations(name, excluded ? { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: "" } : {});

export const patchExportSpec = (namespace: string, name: string, spec: Record<string, unknown>) =>
  custom().patchNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "secretexports",
    name,
    body: [{ op: "replace", path: "/spec", value: spec }],
  });

/** Replaces all annotations of a SecretExport. */
export const setExportAnnotations = (namespace: string, name: string, annotations: StringMap) =>
  custom().patchNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "secretexports",
    name,
    body: [{ op: "add", path: "/metadata/annotations", value: annotations }],
  });

/** Sets a Secret's `.dockerconfigjson` to this text, as is (valid JSON of any shape). */
export const setDockerConfigText = (namespace: string, name: string, text: string) =>
  core().patchNamespacedSecret({
    namespace,
    name,
    body: [
      {
        op: "replace",
        path: "/data",
        value: { [DOCKER_CONFIG_JSON_KEY]: Buffer.from(text).toString("base64") },
      },
    ],
  });

export const deleteSecret = (namespace: string, name: string) =>
  core().deleteNamespacedSecret({ namespace, name }).catch(ignoreNotFound);

/** A placeholder with other data keys, labels and annotations besides what the controller writes. */
export async function createDecoratedPlaceholder(
  namespace: string,
  name: string,
  options: { data?: StringMap; labels?: StringMap; annotations?: StringMap; type?: string },
): Promise<void> {
  await core().createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name,
        labels: options.labels ?? {},
        annotations: { [ANNOTATION_IMAGE_PULL_SECRET]: "", ...options.annotations },
      },
      type: options.type ?? "kubernetes.io/dockerconfigjson",
      stringData: options.data ?? {},
    },
  });
}

export const readSecret = (namespace: string, name: string) =>
  core().readNamespacedSecret({ namespace, name });

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface ExportStatus {
  observedGeneration?: number;
  observedSecretResourceVersion?: string;
  namespacesReached?: number;
  friendlyDescription?: string;
  conditions?: Condition[];
}

export interface ExportRead {
  metadata: { generation: number; resourceVersion: string };
  status?: ExportStatus;
}

export const getExport = async (namespace: string, name: string): Promise<ExportRead> =>
  (await readExport(namespace, name)) as unknown as ExportRead;

export const readyOf = (status: ExportStatus | undefined): Condition | undefined =>
  status?.conditions?.find((c) => c.type === "Ready");

/** Waits until the export's status satisfies the check; fails showing the last status seen. */
export const expectExport = (
  namespace: string,
  name: string,
  what: string,
  check: (read: ExportRead) => boolean,
  timeoutMs = 15_000,
): Promise<ExportRead> =>
  readUntil(
    `export ${namespace}/${name}: ${what}`,
    () => getExport(namespace, name),
    check,
    (last) => `last status ${JSON.stringify(last?.status)}`,
    timeoutMs,
  );

/** Waits until the export's Ready condition has this reason and its status is current. */
export const expectExportReason = (namespace: string, name: string, reason: string, timeoutMs?: number) =>
  expectExport(
    namespace,
    name,
    `Ready reason ${reason}`,
    (read) =>
      readyOf(read.status)?.reason === reason && read.status?.observedGeneration === read.metadata.generation,
    timeoutMs,
  );

export interface PlaceholderStatus {
  conditions?: Condition[];
  secretNames?: string[];
  sources?: StringMap;
  conflicts?: { registry: string; exports: string[] }[];
}

export const statusOf = (read: PlaceholderRead): PlaceholderStatus =>
  (read.status ?? {}) as PlaceholderStatus;

/** Waits until the placeholder's status annotation satisfies the check. */
export const expectPlaceholder = (
  namespace: string,
  what: string,
  check: (read: PlaceholderRead) => boolean,
  name = "pull",
  timeoutMs = 15_000,
): Promise<PlaceholderRead> =>
  readUntil(
    `placeholder ${namespace}/${name}: ${what}`,
    () => readPlaceholder(namespace, name),
    check,
    lastPlaceholderSeen,
    timeoutMs,
  );

/** Waits until the placeholder holds these auths and its status lists exactly these exports. */
export const expectFilled = (
  namespace: string,
  auths: Record<string, StringMap>,
  secretNames: string[],
  name = "pull",
) =>
  expectPlaceholder(
    namespace,
    `holds ${JSON.stringify(Object.keys(auths))} from ${secretNames.join(", ")}`,
    (read) =>
      isDeepStrictEqual(read.auths, auths) &&
      isDeepStrictEqual(statusOf(read).secretNames ?? [], [...secretNames].sort()),
    name,
  );

/** The Events recorded for one object, oldest first. */
export async function eventsFor(
  namespace: string,
  kind: string,
  name: string,
  reason?: string,
): Promise<CoreV1Event[]> {
  const list = await core().listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
  });
  return list.items.filter((e) => reason === undefined || e.reason === reason);
}

/** Waits until at least one Event with this reason and type was recorded for the object. */
export const expectEvent = (namespace: string, kind: string, name: string, reason: string, type: string) =>
  eventually(`${type} Event ${reason} on ${kind} ${namespace}/${name}`, async () => {
    const found = (await eventsFor(namespace, kind, name, reason)).filter((e) => e.type === type);
    return found.length > 0 ? found : undefined;
  });

/**
 * Waits until nothing more will happen, so that a negative assertion after it means something: no
 * key queued or running, and none waiting out a delay (a rewrite hold, a retry backoff, a delayed
 * export count), which merely draining the queues ignores. Twice in a row, a second apart, so the
 * watch events of writes just made have arrived, and a delayed key that fired between one queue
 * draining and the check has run too.
 */
export async function quiescent(
  controller: { drained(): Promise<unknown>; delayedKeys(): string[] },
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let calm = 0; calm < 2;) {
    await controller.drained();
    await new Promise((r) => setTimeout(r, 1_000));
    await controller.drained();
    const delayed = controller.delayedKeys();
    calm = delayed.length === 0 ? calm + 1 : 0;
    if (calm === 0 && Date.now() > deadline) {
      throw new Error(`not quiescent after ${timeoutMs} ms: still delayed: ${delayed.join(", ")}`);
    }
  }
}

/**
 * A dockerconfigjson source namespace/name and its export (deleted when the test ends), with an
 * optional weight annotation; returns the export's "namespace/name".
 */
export async function offer(
  t: TestContext,
  namespace: string,
  name: string,
  auths: Auths,
  spec: Record<string, unknown>,
  weight?: string,
): Promise<string> {
  await createSource(namespace, name, auths);
  await createExport(t, namespace, name, spec, weight === undefined ? {} : { [ANNOTATION_WEIGHT]: weight });
  return `${namespace}/${name}`;
}
