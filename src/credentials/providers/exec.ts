// exec: a kubelet credential provider plugin (credentialprovider.kubelet.k8s.io/v1), configured as
// the kubelet configures them: a CredentialProviderConfig file and a bin directory, both from the
// controller's flags. A RegistryCredential names only an image; the plugin whose matchImages match
// it runs with a v1 CredentialProviderRequest on stdin and answers on stdout. The plugin's stderr is
// never read into a message: some plugins print tokens there.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { load } from "js-yaml";
import { type ExecSpec, type MintedCredential, ProviderError, type ProviderInput } from "../provider.ts";

const API_VERSION = "credentialprovider.kubelet.k8s.io/v1";
/** The lifetime of a credential from a plugin that reports no cache duration (GCP's default). */
export const UNKNOWN_CACHE_DURATION_MS = 30 * 60_000;
const MAX_OUTPUT_BYTES = 1 << 20;

interface PluginConfig {
  name: string;
  matchImages: string[];
  defaultCacheDuration?: string;
  apiVersion?: string;
  args?: string[];
  env?: { name: string; value: string }[];
}

export async function mintExec(spec: ExecSpec, input: ProviderInput): Promise<MintedCredential> {
  const plugin = (await readConfig(spec.plugins.configPath)).find((p) =>
    p.matchImages.some((pattern) => imageMatches(pattern, spec.image)),
  );
  if (plugin === undefined)
    throw new ProviderError(`no plugin in the credential provider config matches image ${spec.image}`, false);
  const response = await run(plugin, join(spec.plugins.binDir, plugin.name), spec.image, input);
  const auth = Object.entries(response.auth ?? {}).find(([key]) => imageMatches(key, spec.image))?.[1];
  if (typeof auth?.username !== "string" || typeof auth.password !== "string")
    throw new ProviderError(`plugin ${plugin.name} returned no credential for image ${spec.image}`, true);
  const credential = { username: auth.username, password: auth.password };
  const registries = spec.registries ?? [hostOf(spec.image)];
  const cacheMs = parseDuration(response.cacheDuration) || parseDuration(plugin.defaultCacheDuration);
  return {
    auths: Object.fromEntries(registries.map((registry) => [registry, credential])),
    expiresAt: new Date(input.now().getTime() + (cacheMs || UNKNOWN_CACHE_DURATION_MS)),
    identity: `plugin ${plugin.name}`,
  };
}

async function readConfig(path: string): Promise<PluginConfig[]> {
  let document: unknown;
  try {
    document = load(await readFile(path, "utf8"));
  } catch (err) {
    throw new ProviderError(
      `cannot read the credential provider config ${path}: ${(err as Error).message}`,
      true,
    );
  }
  const providers = (document as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(providers)) throw new ProviderError(`${path} has no providers list`, true);
  return providers.filter(
    (p): p is PluginConfig =>
      typeof p?.name === "string" && /^[A-Za-z0-9._-]+$/.test(p.name) && Array.isArray(p.matchImages),
  );
}

interface PluginResponse {
  cacheDuration?: string;
  auth?: Record<string, { username?: unknown; password?: unknown }>;
}

function run(
  plugin: PluginConfig,
  binary: string,
  image: string,
  input: ProviderInput,
): Promise<PluginResponse> {
  const env = { ...input.env, ...Object.fromEntries((plugin.env ?? []).map((e) => [e.name, e.value])) };
  const child = spawn(binary, plugin.args ?? [], {
    env,
    signal: input.signal,
    stdio: ["pipe", "pipe", "ignore"],
  });
  const chunks: Buffer[] = [];
  let size = 0;
  child.stdout.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_OUTPUT_BYTES) child.kill();
    else chunks.push(chunk);
  });
  child.stdin.on("error", () => {}); // a plugin that exits without reading stdin
  child.stdin.end(JSON.stringify({ apiVersion: API_VERSION, kind: "CredentialProviderRequest", image }));
  return new Promise((resolve, reject) => {
    child.on("error", (err) =>
      reject(new ProviderError(`plugin ${plugin.name} could not run: ${err.message}`, true)),
    );
    child.on("close", (code) => {
      if (code !== 0)
        return reject(new ProviderError(`plugin ${plugin.name} exited with code ${code}`, true));
      try {
        resolve(parseResponse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(
          new ProviderError(
            `plugin ${plugin.name} did not answer with a ${API_VERSION} CredentialProviderResponse`,
            true,
          ),
        );
      }
    });
  });
}

function parseResponse(stdout: string): PluginResponse {
  const response = JSON.parse(stdout) as { apiVersion?: unknown; kind?: unknown } & PluginResponse;
  if (response.apiVersion !== API_VERSION || response.kind !== "CredentialProviderResponse")
    throw new Error();
  return response;
}

/**
 * The kubelet's match of an image against a matchImages pattern or an auth key: the same number of
 * host labels, each matched by its glob (`*` stays within a label), the same port if the pattern
 * has one, and the pattern's path a prefix of the image's.
 */
export function imageMatches(pattern: string, image: string): boolean {
  const [patternHost, patternPath] = splitImage(pattern.replace(/^https?:\/\//, ""));
  const [imageHost, imagePath] = splitImage(image);
  const [patternName = "", patternPort] = patternHost.split(":");
  const [imageName = "", imagePort] = imageHost.split(":");
  if (patternPort !== undefined && patternPort !== imagePort) return false;
  const patternLabels = patternName.split(".");
  const imageLabels = imageName.split(".");
  if (patternLabels.length !== imageLabels.length) return false;
  if (!patternLabels.every((label, i) => labelGlob(label).test(imageLabels[i] ?? ""))) return false;
  return imagePath.startsWith(patternPath);
}

const splitImage = (image: string): [string, string] => {
  const slash = image.indexOf("/");
  return slash === -1 ? [image, ""] : [image.slice(0, slash), image.slice(slash)];
};
const hostOf = (image: string): string => splitImage(image)[0];
const labelGlob = (label: string): RegExp =>
  new RegExp(`^${label.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^.]*")}$`, "i");

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration ("12h", "1h30m", "90s") in milliseconds; 0 for none or one that does not parse. */
export function parseDuration(text: string | undefined): number {
  if (!text) return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.map((p) => p[0]).join("") !== text) return 0;
  return parts.reduce((ms, [, value = "0", unit = "s"]) => ms + Number(value) * (UNITS[unit] ?? 0), 0);
}
