// The write a placeholder needs, if any: only data[.dockerconfigjson] and the status annotation,
// and only what changed (SPEC §3.7), guarded by the resourceVersion the decision was made on.
import { ANNOTATION_STATUS, CONDITION_RECONCILE_FAILED, DOCKER_CONFIG_JSON_KEY } from "../constants.ts";
import { isJsonObject } from "./json.ts";
import type { StringMap } from "./types.ts";

export interface PlaceholderState {
  resourceVersion: string;
  /** Base64 values, as the API returns them. */
  data: StringMap;
  annotations: StringMap;
}

export interface PlaceholderPatch {
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** A JSON merge patch, or undefined when the placeholder already holds what is desired. */
export function placeholderPatch(
  current: PlaceholderState,
  desired: { dockerConfigJson?: string; status: string },
): PlaceholderPatch | undefined {
  const encoded =
    desired.dockerConfigJson === undefined
      ? undefined
      : Buffer.from(desired.dockerConfigJson).toString("base64");
  const dataChanged = encoded !== undefined && current.data[DOCKER_CONFIG_JSON_KEY] !== encoded;
  const statusChanged = current.annotations[ANNOTATION_STATUS] !== desired.status;
  if (!dataChanged && !statusChanged) return undefined;
  return {
    metadata: {
      resourceVersion: current.resourceVersion,
      ...(statusChanged ? { annotations: { [ANNOTATION_STATUS]: desired.status } } : {}),
    },
    ...(dataChanged ? { data: { [DOCKER_CONFIG_JSON_KEY]: encoded } } : {}),
  };
}

/** Size of every annotation, key and value, but the status, for the 256 KiB limit. */
export function otherAnnotationBytes(annotations: StringMap): number {
  return Object.entries(annotations)
    .filter(([key]) => key !== ANNOTATION_STATUS)
    .reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
}

/** Decoded size of every data value but .dockerconfigjson, for the 1 MiB limit. */
export function otherDataBytes(data: StringMap): number {
  return Object.entries(data)
    .filter(([key]) => key !== DOCKER_CONFIG_JSON_KEY)
    .reduce((sum, [, value]) => sum + Buffer.byteLength(value, "base64"), 0);
}

/**
 * The status annotation when the merged result cannot be written (too large, or refused by the API
 * server: `reason` WriteRejected): the current one, with its provenance kept (the data it describes
 * stays), and a failure condition.
 */
export function failedStatus(currentStatus: string | undefined, message: string, reason?: string): string {
  // conditions first, as SPEC §1 writes the annotation, even when the current one lacks them.
  const { conditions: _replaced, ...kept } = statusMembers(currentStatus);
  const condition = {
    type: CONDITION_RECONCILE_FAILED,
    status: "True",
    ...(reason === undefined ? {} : { reason }),
    message,
  };
  return JSON.stringify({ conditions: [condition], ...kept });
}

/** The reason of the status annotation's condition, when it has one (only failedStatus writes one). */
export function failedReason(currentStatus: string | undefined): string | undefined {
  const { conditions } = statusMembers(currentStatus);
  const first: unknown = Array.isArray(conditions) ? conditions[0] : undefined;
  return isJsonObject(first) && typeof first.reason === "string" ? first.reason : undefined;
}

function statusMembers(currentStatus: string | undefined): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(currentStatus ?? "{}");
    return isJsonObject(parsed) ? parsed : {};
  } catch {
    return {}; // unreadable: replaced as a whole
  }
}
