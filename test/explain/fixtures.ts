// Plain data for explain tests, built from API-shaped objects through the controller's own views, so
// the tests feed explain exactly what reading the cluster would.
import {
  ANNOTATION_EXCLUDED_FROM_WILDCARD,
  ANNOTATION_IMAGE_PULL_SECRET,
  ANNOTATION_WEIGHT,
  LABEL_IMPORTED,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../../src/constants.ts";
import {
  copyView,
  type ExportEntry,
  exportEntry,
  type ImportEntry,
  importEntry,
  namespaceView,
  secretView,
} from "../../src/views/views.ts";
import { placeholderCandidates, parseSecretDockerConfig } from "../../src/core/candidates.ts";
import type { ExistingSecret } from "../../src/core/imports.ts";
import { planPlaceholder } from "../../src/core/placeholder-plan.ts";
import type { NamespaceView, SecretView } from "../../src/core/types.ts";
import { type ExplainInput } from "../../src/explain/explain.ts";

/** Every credential value in these tests contains this marker, so a leak is easy to find. */
export const MARK = "s3cr3t";

export const cred = (user: string, pass = `${user}-pass`) => ({
  username: `${user}-${MARK}`,
  password: `${pass}-${MARK}`,
  auth: Buffer.from(`${user}-${MARK}:${pass}-${MARK}`).toString("base64"),
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

export function ns(
  name: string,
  options: { labels?: Record<string, string>; excluded?: boolean; terminating?: boolean } = {},
): NamespaceView {
  return namespaceView({
    metadata: {
      name,
      labels: options.labels ?? {},
      annotations: options.excluded ? { [ANNOTATION_EXCLUDED_FROM_WILDCARD]: "" } : {},
      ...(options.terminating ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    status: { phase: options.terminating ? "Terminating" : "Active" },
  });
}

export function exp(key: string, spec: Record<string, unknown>, weight?: string): ExportEntry {
  const [namespace, name] = key.split("/");
  const entry = exportEntry({
    metadata: { namespace, name, annotations: weight === undefined ? {} : { [ANNOTATION_WEIGHT]: weight } },
    spec,
  });
  if (entry === undefined) throw new Error("no export");
  return entry;
}

export function secret(
  key: string,
  type: string,
  values: Record<string, string>,
  annotations: Record<string, string> = {},
): SecretView {
  const [namespace, name] = key.split("/");
  const data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)]));
  return secretView({ metadata: { namespace, name, annotations, resourceVersion: "1" }, type, data });
}

/** A dockerconfigjson Secret holding these auths. */
export const docker = (
  key: string,
  auths: Record<string, unknown>,
  annotations: Record<string, string> = {},
) =>
  secret(
    key,
    SECRET_TYPE_DOCKER_CONFIG_JSON,
    { ".dockerconfigjson": JSON.stringify({ auths }) },
    annotations,
  );

/** A new placeholder, as users create it. */
export const placeholder = (key: string, type = SECRET_TYPE_DOCKER_CONFIG_JSON) =>
  secret(key, type, type === SECRET_TYPE_DOCKER_CONFIG_JSON ? { ".dockerconfigjson": "{}" } : {}, {
    [ANNOTATION_IMAGE_PULL_SECRET]: "",
  });

export function imp(key: string, fromNamespace: string | undefined): ImportEntry {
  const [namespace, name] = key.split("/");
  const entry = importEntry({
    metadata: { namespace, name, uid: `uid-${name}` },
    spec: fromNamespace === undefined ? {} : { fromNamespace },
  });
  if (entry === undefined) throw new Error("no import");
  return entry;
}

/** The copy the import key would have made of source. */
export function copyOf(
  importKey: string,
  source: SecretView,
  controllerUid = `uid-${importKey.split("/")[1]}`,
) {
  const [namespace, name] = importKey.split("/");
  return copyView({
    metadata: {
      namespace,
      name,
      uid: `copy-${name}`,
      resourceVersion: "7",
      labels: { [LABEL_IMPORTED]: "true" },
      ownerReferences: [{ uid: controllerUid, controller: true }],
    },
    type: source.type,
    data: source.data,
  });
}

export interface Cluster {
  namespace?: string;
  namespaces?: NamespaceView[];
  exports?: ExportEntry[];
  /** Secrets anywhere: sources, placeholders, copies. */
  secrets?: SecretView[];
  imports?: ImportEntry[];
  copies?: [name: string, copy: ExistingSecret][];
  secret?: string;
}

/** What readCluster would return for namespace `app` (by default) of this cluster. */
export function input(cluster: Cluster): ExplainInput {
  const namespace = cluster.namespace ?? "app";
  const secrets = cluster.secrets ?? [];
  return {
    namespace,
    namespaceView: (cluster.namespaces ?? [ns(namespace)]).find((n) => n.name === namespace),
    secret: cluster.secret,
    exports: cluster.exports ?? [],
    secrets: new Map(secrets.map((s) => [`${s.namespace}/${s.name}`, s])),
    placeholders: secrets.filter(
      (s) => s.namespace === namespace && Object.hasOwn(s.annotations, ANNOTATION_IMAGE_PULL_SECRET),
    ),
    imports: cluster.imports ?? [],
    importTargets: new Map(cluster.copies ?? []),
  };
}

/** The cluster after the controller reconciled every placeholder once (its patch applied). */
export function reconciled(cluster: Cluster): Cluster {
  const given = input(cluster);
  const view = given.namespaceView;
  if (view === undefined) return cluster;
  const dockerSource = (key: string) => {
    const found = given.secrets.get(key);
    return found?.type === SECRET_TYPE_DOCKER_CONFIG_JSON ? found : undefined;
  };
  const candidates = placeholderCandidates(given.exports, dockerSource, view, (s) =>
    parseSecretDockerConfig(s.data),
  );
  const secrets = (cluster.secrets ?? []).map((s) => {
    if (!given.placeholders.includes(s) || s.type !== SECRET_TYPE_DOCKER_CONFIG_JSON) return s;
    const { patch } = planPlaceholder(s, candidates);
    if (patch === undefined) return s;
    return {
      ...s,
      resourceVersion: `${s.resourceVersion}1`,
      data: { ...s.data, ...patch.data },
      annotations: { ...s.annotations, ...patch.metadata.annotations },
    };
  });
  return { ...cluster, secrets };
}
