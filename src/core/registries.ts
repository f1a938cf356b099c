// Registry keys of a docker config, compared in one canonical spelling (SPEC §3.3).

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

const SCHEME = /^https?:\/\//i;
// Trailing slashes and a registry API version suffix: `/`, `/v1`, `/v1/`, `/v2`, `/v2/`.
const API_SUFFIX = /(\/+v[12])?\/*$/i;

/** The canonical form of a registry key: two keys are the same registry when their forms are equal. */
export function normaliseRegistry(key: string): string {
  const rest = key.replace(SCHEME, "").replace(API_SUFFIX, "");
  const slash = rest.indexOf("/");
  const host = (slash === -1 ? rest : rest.slice(0, slash)).toLowerCase();
  const path = slash === -1 ? "" : rest.slice(slash);
  return (DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host) + path;
}
