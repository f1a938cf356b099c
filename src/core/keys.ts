// "namespace/name" keys, the one way every object is named in caches, queues, status and explain.
import { compareBytewise } from "./dockerconfig.ts";

export const keyOf = (o: { namespace: string; name: string }): string => `${o.namespace}/${o.name}`;

export function splitKey(key: string): [namespace: string, name: string] {
  const slash = key.indexOf("/");
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** De-duplicated, in byte order (Go's and carvel's). */
export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareBytewise);
}
