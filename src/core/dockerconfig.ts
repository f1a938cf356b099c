// Reading and writing the `.dockerconfigjson` of a Secret (SPEC §3.6). Messages name the field
// at fault but never quote a value: the whole document is a credential.
import { isJsonObject } from "./json.ts";

export type DockerConfigEntry = Readonly<Record<string, unknown>>;

export interface RegistryEntry {
  /** The registry key as spelled in the document. */
  key: string;
  entry: DockerConfigEntry;
}

export type ParsedDockerConfig =
  { ok: true; entries: RegistryEntry[]; skipped: string[] } | { ok: false; message: string };

const CREDENTIAL_FIELDS = ["username", "password", "auth", "identitytoken", "registrytoken"];
const STRING_FIELDS = new Set([...CREDENTIAL_FIELDS, "email"]);
const LEADING_FIELDS = ["username", "password", "auth"];

/** Byte-wise UTF-8 order, the order Go (and carvel) sorts strings and map keys in. */
export function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function parseDockerConfig(json: string): ParsedDockerConfig {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch {
    // The SyntaxError text quotes the input, so it must not be passed on.
    return { ok: false, message: "not valid JSON" };
  }
  if (!isJsonObject(document)) {
    return { ok: false, message: `the top level must be a JSON object, not ${jsonType(document)}` };
  }
  const auths = lastMatching(document, "auths");
  if (auths === undefined) return { ok: false, message: "the top level has no auths object" };
  if (!isJsonObject(auths)) return { ok: false, message: `auths must be an object, not ${jsonType(auths)}` };
  return parseAuths(auths);
}

function parseAuths(auths: Record<string, unknown>): ParsedDockerConfig {
  const entries: RegistryEntry[] = [];
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(auths)) {
    const path = `auths[${JSON.stringify(key)}]`;
    if (!isJsonObject(value)) {
      return { ok: false, message: `${path} must be an object, not ${jsonType(value)}` };
    }
    const bad = Object.entries(value).find(([name, field]) => isMistypedStringField(name, field));
    if (bad !== undefined) {
      return { ok: false, message: `${path}.${bad[0]} must be a string, not ${jsonType(bad[1])}` };
    }
    const entry = canonicalEntry(value);
    if (hasCredential(entry)) entries.push({ key, entry });
    else skipped.push(key);
  }
  return { ok: true, entries, skipped };
}

// Go's encoding/json, which carvel and the kubelet read these documents with, matches field names
// case-insensitively and treats null as absent; the known fields are therefore stored lower-case.
function canonicalEntry(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).flatMap(([name, field]) => {
      const lower = name.toLowerCase();
      if (!STRING_FIELDS.has(lower)) return [[name, field]];
      return field === null ? [] : [[lower, field]];
    }),
  );
}

function isMistypedStringField(name: string, field: unknown): boolean {
  return STRING_FIELDS.has(name.toLowerCase()) && field !== null && typeof field !== "string";
}

// Case-insensitive and last one wins, as in Go.
function lastMatching(object: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(object).findLast((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : object[key];
}

function hasCredential(entry: DockerConfigEntry): boolean {
  return CREDENTIAL_FIELDS.some((name) => typeof entry[name] === "string" && entry[name] !== "");
}

/** `{"auths":{...}}`, compact, registry keys sorted, `username`, `password`, `auth` first in each entry. */
export function serialiseDockerConfig(entries: readonly RegistryEntry[]): string {
  const sorted = [...entries].sort((a, b) => compareBytewise(a.key, b.key));
  const auths = stringifyMembers(sorted.map(({ key, entry }) => [key, serialiseEntry(entry)]));
  return `{"auths":${auths}}`;
}

function serialiseEntry(entry: DockerConfigEntry): string {
  const leading = LEADING_FIELDS.filter((name) => Object.hasOwn(entry, name));
  const rest = Object.keys(entry)
    .filter((name) => !LEADING_FIELDS.includes(name))
    .sort(compareBytewise);
  return stringifyMembers([...leading, ...rest].map((name) => [name, JSON.stringify(entry[name])]));
}

/**
 * A JSON object with its members in the given order. JSON.stringify of an object would move
 * integer-like keys (a registry key such as "5000") to the front.
 */
export function stringifyMembers(members: readonly (readonly [string, string])[]): string {
  return `{${members.map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(",")}}`;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
