// What a reconcile does to a placeholder of type kubernetes.io/dockerconfigjson (SPEC §3.2-3.7): the
// content it should hold, whether that fits in a Secret, and the write, if any. The controller acts
// on it; `explain` reports it.
import { ANNOTATION_STATUS, DOCKER_CONFIG_JSON_KEY, MESSAGE_TOO_LARGE } from "../constants.ts";
import {
  type Candidate,
  desiredPlaceholder,
  exceedsSecretDataLimit,
  type PlaceholderResult,
} from "./placeholder.ts";
import {
  failedStatus,
  otherDataBytes,
  type PlaceholderPatch,
  placeholderPatch,
  type PlaceholderState,
} from "./placeholder-patch.ts";

export interface PlaceholderPlan {
  desired: PlaceholderResult;
  /** False when the merged credentials exceed the Secret size limit: only the status is written. */
  fits: boolean;
  /** Undefined when the placeholder already holds what is desired. */
  patch: PlaceholderPatch | undefined;
}

export function planPlaceholder(secret: PlaceholderState, candidates: readonly Candidate[]): PlaceholderPlan {
  const currentStatus = secret.annotations[ANNOTATION_STATUS];
  const encoded = secret.data[DOCKER_CONFIG_JSON_KEY];
  const desired = desiredPlaceholder({
    candidates,
    currentConfig: encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8"),
    currentStatus,
  });
  const fits = !exceedsSecretDataLimit(desired.dockerConfigJson, otherDataBytes(secret.data));
  const patch = fits
    ? placeholderPatch(secret, { dockerConfigJson: desired.dockerConfigJson, status: desired.status })
    : placeholderPatch(secret, { status: failedStatus(currentStatus, MESSAGE_TOO_LARGE) });
  return { desired, fits, patch };
}
