// What a reconcile does to a placeholder of type kubernetes.io/dockerconfigjson (SPEC §3.2-3.7): the
// content it should hold, whether that fits in a Secret, and the write, if any. The controller acts
// on it; `explain` reports it.
import {
  ANNOTATION_STATUS,
  DOCKER_CONFIG_JSON_KEY,
  MESSAGE_STATUS_TOO_LARGE,
  MESSAGE_TOO_LARGE,
} from "../constants.ts";
import {
  type Candidate,
  desiredPlaceholder,
  exceedsAnnotationLimit,
  exceedsSecretDataLimit,
  type PlaceholderInput,
  type PlaceholderResult,
} from "./placeholder.ts";
import {
  failedStatus,
  otherAnnotationBytes,
  otherDataBytes,
  type PlaceholderPatch,
  placeholderPatch,
  type PlaceholderState,
} from "./placeholder-patch.ts";

export interface PlaceholderPlan {
  desired: PlaceholderResult;
  /**
   * False when the merged credentials exceed a Secret size limit (1 MiB of data, or 256 KiB of
   * annotations with the status): only a failed status is written, the data is kept.
   */
  fits: boolean;
  /** Which limit, when it does not fit: MESSAGE_TOO_LARGE or MESSAGE_STATUS_TOO_LARGE. */
  tooLarge: string | undefined;
  /** Undefined when the placeholder already holds what is desired. */
  patch: PlaceholderPatch | undefined;
}

/** `desire` is desiredPlaceholder, or the controller's memo of it. */
export function planPlaceholder(
  secret: PlaceholderState,
  candidates: readonly Candidate[],
  desire: (input: PlaceholderInput) => PlaceholderResult = desiredPlaceholder,
): PlaceholderPlan {
  const currentStatus = secret.annotations[ANNOTATION_STATUS];
  const encoded = secret.data[DOCKER_CONFIG_JSON_KEY];
  const desired = desire({
    candidates,
    currentConfig: encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8"),
    currentStatus,
  });
  // The status records where each registry came from, which keeping entries safe relies on (SPEC
  // §3.5): data is never written without it, so a status that cannot be written holds the data too.
  const tooLarge = exceedsSecretDataLimit(desired.dockerConfigJson, otherDataBytes(secret.data))
    ? MESSAGE_TOO_LARGE
    : exceedsAnnotationLimit(desired.status, otherAnnotationBytes(secret.annotations))
      ? MESSAGE_STATUS_TOO_LARGE
      : undefined;
  const patch =
    tooLarge === undefined
      ? placeholderPatch(secret, { dockerConfigJson: desired.dockerConfigJson, status: desired.status })
      : placeholderPatch(secret, { status: failedStatus(currentStatus, tooLarge) });
  return { desired, fits: tooLarge === undefined, tooLarge, patch };
}
