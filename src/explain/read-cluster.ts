// What `explain` reads, once, from the live cluster, turned into the same views the controller's
// caches hold (src/views/views.ts). It never lists Secrets with data: Secret metadata in the one
// namespace, and single reads of the placeholders there and of the sources of the exports and
// imports that reach it, so its user needs to read no other credential.
import { API_VERSION, SECRET_EXPORT_PLURAL, SECRET_IMPORT_PLURAL } from "../constants.ts";
import { keyOf, splitKey } from "../core/keys.ts";
import type { SecretView } from "../core/types.ts";
import {
  copyView,
  exportEntry,
  importEntry,
  isPlaceholder,
  namespaceView,
  secretView,
} from "../views/views.ts";
import { getOrUndefined, type KubeHttp, type KubeObject } from "../runtime/kube-http.ts";
import { type ExplainInput, sourcesToRead } from "./explain.ts";

export interface ReadOptions {
  namespace: string;
  /** Only the placeholder and the SecretImport of this name. */
  secret?: string | undefined;
}

const PAGE_SIZE = 500;
/** Single reads in flight at once. */
const CONCURRENCY = 8;
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

export async function readCluster(http: KubeHttp, options: ReadOptions): Promise<ExplainInput> {
  const { namespace, secret } = options;
  const ns = encodeURIComponent(namespace);
  const importsPath = `/apis/${API_VERSION}/namespaces/${ns}/${SECRET_IMPORT_PLURAL}`;
  const secretsPath = `/api/v1/namespaces/${ns}/secrets`;
  const [namespaceObject, exportObjects, importObjects, namespaceSecrets] = await Promise.all([
    getOrUndefined(http, `/api/v1/namespaces/${ns}`),
    list(http, `/apis/${API_VERSION}/${SECRET_EXPORT_PLURAL}`),
    secret === undefined
      ? list(http, importsPath)
      : getAll(http, `${importsPath}/${encodeURIComponent(secret)}`),
    // Without --secret: metadata only, to find the placeholders of any type without reading data.
    secret === undefined
      ? list(http, secretsPath, METADATA_LIST)
      : getAll(http, `${secretsPath}/${encodeURIComponent(secret)}`),
  ]);

  const view = namespaceObject && namespaceView(namespaceObject);
  const exports = exportObjects.flatMap((o) => exportEntry(o) ?? []);
  const imports = importObjects.flatMap((o) => importEntry(o) ?? []);
  const secrets = new Map<string, SecretView>();

  const readSecret = async (key: string): Promise<SecretView | undefined> => {
    const [from, name] = splitKey(key);
    const found = await getOrUndefined(
      http,
      `/api/v1/namespaces/${encodeURIComponent(from)}/secrets/${encodeURIComponent(name)}`,
    );
    return found && secretView(found);
  };

  const placeholderObjects = namespaceSecrets.filter((o) =>
    isPlaceholder(o.metadata?.annotations as Record<string, string> | undefined),
  );
  const placeholders = await mapLimited(placeholderObjects, (o) =>
    secret === undefined ? readSecret(keyOf(secretView(o))) : secretView(o),
  );
  const sources = await mapLimited(sourcesToRead(view, exports, imports), async (key) => {
    const found = await readSecret(key);
    return [key, found] as const;
  });
  for (const [key, found] of sources) if (found !== undefined) secrets.set(key, found);
  const targets = await mapLimited(imports, async (entry) => {
    const found = await getOrUndefined(http, `${secretsPath}/${encodeURIComponent(entry.name)}`);
    return [entry.name, found && copyView(found)] as const;
  });

  return {
    namespace,
    namespaceView: view,
    secret,
    exports,
    secrets,
    placeholders: placeholders.filter((p) => p !== undefined),
    imports,
    importTargets: new Map(targets.flatMap(([name, copy]) => (copy === undefined ? [] : [[name, copy]]))),
  };
}

async function getAll(http: KubeHttp, path: string): Promise<KubeObject[]> {
  const found = await getOrUndefined(http, path);
  return found === undefined ? [] : [found];
}

async function list(http: KubeHttp, path: string, accept?: string): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let resume: string | undefined;
  do {
    const page = await http.request<{ items?: KubeObject[]; metadata?: { continue?: string } }>(path, {
      query: { limit: PAGE_SIZE, continue: resume },
      accept,
    });
    items.push(...(page.items ?? []));
    resume = page.metadata?.continue || undefined;
  } while (resume);
  return items;
}

/** Maps with at most CONCURRENCY calls in flight, keeping the order. */
async function mapLimited<T, R>(items: readonly T[], map: (item: T) => R | Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}
