// A ServiceAccount's imagePullSecrets as ClusterPlaceholders change them: an entry is added where a
// ClusterPlaceholder wants it and removed only when the ClusterPlaceholders that added it all stopped
// wanting it. What they added is recorded on the ServiceAccount, so entries anyone else wrote stay.
import { ANNOTATION_ADDED_PULL_SECRETS } from "../constants.ts";

export interface ServiceAccountView {
  namespace: string;
  name: string;
  resourceVersion: string;
  /** imagePullSecrets names, in order. */
  pullSecrets: readonly string[];
  /** The recording annotation, unparsed. */
  added: string | undefined;
}

/** Secret name -> the ClusterPlaceholders that added or also want the entry, sorted. */
export type AddedEntries = Record<string, string[]>;

/** The record; anything unreadable counts as nothing recorded, so nothing is ever removed for it. */
export function parseAdded(annotation: string | undefined): AddedEntries {
  if (annotation === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(annotation);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    const entries = Object.entries(parsed).filter(
      (entry): entry is [string, string[]] =>
        Array.isArray(entry[1]) && entry[1].every((owner) => typeof owner === "string"),
    );
    return Object.fromEntries(entries);
  } catch {
    return {};
  }
}

/** Whether the record names this ClusterPlaceholder for any entry. */
export const recordsOwner = (sa: ServiceAccountView, owner: string): boolean =>
  Object.values(parseAdded(sa.added)).some((owners) => owners.includes(owner));

/**
 * The merge patch that makes `owner` want exactly `wanted` (a Secret name, or nothing) on this
 * ServiceAccount, or undefined when nothing changes. It carries the resourceVersion read, so a
 * concurrent change of the list is never overwritten (the API server answers 409 and it is retried).
 */
export function serviceAccountPatch(sa: ServiceAccountView, owner: string, wanted: string | undefined) {
  const added = new Map(Object.entries(parseAdded(sa.added)));
  let pullSecrets = [...sa.pullSecrets];
  for (const [secret, owners] of added) {
    if (secret === wanted || !owners.includes(owner)) continue;
    const rest = owners.filter((o) => o !== owner);
    if (rest.length > 0) added.set(secret, rest);
    else {
      added.delete(secret);
      pullSecrets = pullSecrets.filter((name) => name !== secret);
    }
  }
  if (wanted !== undefined) {
    const owners = added.get(wanted) ?? [];
    // Present but recorded for nobody: someone else added it, and it stays theirs.
    const theirs = owners.length === 0 && pullSecrets.includes(wanted);
    if (!theirs && !owners.includes(owner)) added.set(wanted, [...owners, owner].toSorted());
    if (!pullSecrets.includes(wanted)) pullSecrets.push(wanted);
  }
  const record = recordText(added);
  const listChanged = pullSecrets.join("\n") !== sa.pullSecrets.join("\n");
  const recorded =
    sa.added === undefined ? undefined : recordText(new Map(Object.entries(parseAdded(sa.added))));
  if (!listChanged && record === recorded) return undefined;
  return {
    metadata: {
      resourceVersion: sa.resourceVersion,
      annotations: { [ANNOTATION_ADDED_PULL_SECRETS]: record ?? null },
    },
    ...(listChanged ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {}),
  };
}

/** The annotation's text: keys sorted; undefined when nothing is recorded. */
function recordText(added: ReadonlyMap<string, string[]>): string | undefined {
  if (added.size === 0) return undefined;
  return JSON.stringify(Object.fromEntries([...added].toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
