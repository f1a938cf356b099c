// Where the API server is and how to authenticate to it. The two ways a controller is normally given
// its credentials, the in-cluster ServiceAccount and a JSON kubeconfig with static credentials
// (client certificates or a token), are read here without @kubernetes/client-node: loading
// that package (every generated API and model) costs the process about 90 MB of memory and seconds of
// startup, and the controller needs none of it. Everything else (YAML kubeconfigs, KUBECONFIG lists,
// exec plugins, auth providers, proxies, impersonation) is handed to client-node's KubeConfig,
// loaded only then, so no configuration that worked before stops working.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { isIPv6 } from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";
import { Agent, type Dispatcher } from "undici";

export interface KubeAccess {
  server: string;
  /** The current context's namespace, or the pod's namespace in-cluster. */
  namespace: string | undefined;
  /** Headers and connection pool for the next request. */
  authorize(): Promise<{ headers: Record<string, string>; dispatcher: Dispatcher | undefined }>;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** How long a token read from a file is used before the file is read again (as client-go does). */
const TOKEN_FILE_TTL_MS = 60_000;

/**
 * kubectl's order: the given file, else $KUBECONFIG, else ~/.kube/config, else in-cluster. `path` is
 * only an explicit file; a path that came from $KUBECONFIG (possibly a list) is read from `env`.
 */
export async function loadKubeAccess(path: string | undefined, env: NodeJS.ProcessEnv): Promise<KubeAccess> {
  const defaultFile = join(homedir(), ".kube", "config");
  const files = path
    ? [path]
    : env.KUBECONFIG
      ? env.KUBECONFIG.split(delimiter).filter(Boolean)
      : existsSync(defaultFile)
        ? [defaultFile]
        : [];
  const light =
    files.length === 1 && files[0] !== undefined
      ? fromJsonKubeconfig(files[0])
      : files.length === 0
        ? fromServiceAccount(env)
        : undefined;
  if (light) return light;
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kubeConfigAccess(kc);
}

/** client-node's KubeConfig as a KubeAccess: authentication applied per request, one connection pool. */
export async function kubeConfigAccess(kc: KubeConfig): Promise<KubeAccess> {
  const { HttpMethod, RequestContext } = await import("@kubernetes/client-node");
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig has no current cluster");
  let dispatcher: Dispatcher | undefined;
  return {
    server,
    namespace: kc.getContextObject(kc.getCurrentContext())?.namespace,
    async authorize() {
      const ctx = new RequestContext(server, HttpMethod.GET);
      await kc.applySecurityAuthentication(ctx);
      dispatcher ??= ctx.getDispatcher() as Dispatcher | undefined;
      return { headers: ctx.getHeaders(), dispatcher };
    },
  };
}

const CLUSTER_FIELDS = new Set([
  "server",
  "certificate-authority",
  "certificate-authority-data",
  "insecure-skip-tls-verify",
  "tls-server-name",
]);
const USER_FIELDS = new Set([
  "client-certificate",
  "client-certificate-data",
  "client-key",
  "client-key-data",
  "token",
]);

/** A JSON kubeconfig whose current context uses only the fields above; undefined for anything else. */
function fromJsonKubeconfig(file: string): KubeAccess | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined; // YAML (or unreadable): client-node reads it, or reports why it cannot
  }
  const find = (list: string, name: unknown, field: string) => {
    const entries = Array.isArray(doc[list]) ? (doc[list] as Record<string, unknown>[]) : [];
    return entries.find((e) => e.name === name)?.[field] as Record<string, unknown> | undefined;
  };
  const context = find("contexts", doc["current-context"], "context");
  const cluster = find("clusters", context?.cluster, "cluster");
  const user = find("users", context?.user, "user") ?? {};
  const set = (o: Record<string, unknown>) =>
    Object.keys(o).filter((k) => o[k] !== undefined && o[k] !== null && o[k] !== "");
  if (typeof cluster?.server !== "string" || !cluster.server.startsWith("https://")) return undefined;
  if (set(cluster).some((k) => !CLUSTER_FIELDS.has(k)) || set(user).some((k) => !USER_FIELDS.has(k))) {
    return undefined;
  }
  const root = dirname(resolve(file));
  const bytes = (pathKey: string, dataKey: string, o: Record<string, unknown>) =>
    typeof o[dataKey] === "string"
      ? Buffer.from(o[dataKey], "base64")
      : typeof o[pathKey] === "string"
        ? readFileSync(resolve(root, o[pathKey]))
        : undefined;
  return staticAccess({
    server: cluster.server,
    namespace: typeof context?.namespace === "string" ? context.namespace : undefined,
    ca: bytes("certificate-authority", "certificate-authority-data", cluster),
    cert: bytes("client-certificate", "client-certificate-data", user),
    key: bytes("client-key", "client-key-data", user),
    insecure: cluster["insecure-skip-tls-verify"] === true,
    servername: typeof cluster["tls-server-name"] === "string" ? cluster["tls-server-name"] : undefined,
    token: typeof user.token === "string" ? user.token : undefined,
  });
}

/** The pod's ServiceAccount, as client-go's rest.InClusterConfig reads it. */
function fromServiceAccount(env: NodeJS.ProcessEnv): KubeAccess | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(SERVICE_ACCOUNT_DIR, "token");
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const namespaceFile = join(SERVICE_ACCOUNT_DIR, "namespace");
  return staticAccess({
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined,
    ca: readFileSync(join(SERVICE_ACCOUNT_DIR, "ca.crt")),
    tokenFile,
  });
}

function staticAccess(options: {
  server: string;
  namespace: string | undefined;
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  insecure?: boolean;
  servername?: string | undefined;
  token?: string | undefined;
  tokenFile?: string | undefined;
}): KubeAccess {
  // The same connection options client-node gives undici, so nothing changes on the wire.
  const dispatcher = new Agent({
    connect: {
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.cert ? { cert: options.cert } : {}),
      ...(options.key ? { key: options.key } : {}),
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
      ...(options.servername ? { servername: options.servername } : {}),
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    },
  });
  let token = options.token;
  let tokenReadAt = 0;
  return {
    server: options.server,
    namespace: options.namespace,
    async authorize() {
      if (options.tokenFile && Date.now() - tokenReadAt > TOKEN_FILE_TTL_MS) {
        token = readFileSync(options.tokenFile, "utf8").trim();
        tokenReadAt = Date.now();
      }
      const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
      return { headers, dispatcher };
    },
  };
}
