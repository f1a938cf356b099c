// Reconcile of one placeholder: read the caches, decide with the pure core, write the difference,
// report conflicts (status annotation, Events on transitions, the exports involved) and refused writes.
import { ANNOTATION_STATUS, SECRET_TYPE_DOCKER_CONFIG_JSON } from "../constants.ts";
import { rejectedOutcome } from "../core/api-errors.ts";
import { type Conflict, parsePlaceholderStatus, WRONG_TYPE_STATUS } from "../core/placeholder.ts";
import { splitKey } from "../core/keys.ts";
import { type PlaceholderPatch, placeholderPatch } from "../core/placeholder-patch.ts";
import { planPlaceholder } from "../core/placeholder-plan.ts";
import { placeholderRejection } from "../core/rejections.ts";
import { placeholderConflictTransition } from "../core/transitions.ts";
import type { SecretView } from "../core/types.ts";
import { type ApiError, getOrUndefined } from "../runtime/kube-http.ts";
import type { Result } from "../runtime/work-queue.ts";
import { type Context, MERGE_PATCH } from "./context.ts";
import { errorClassOf } from "./errors.ts";
import { recordTransition } from "./status.ts";
import { isPlaceholder, secretView } from "../views/views.ts";

export async function reconcilePlaceholder(ctx: Context, key: string): Promise<Result> {
  const secret = ctx.state.dockerSecrets.get(key);
  if (secret === undefined || !isPlaceholder(secret.annotations)) {
    forgetConflicts(ctx, key);
    ctx.rewrites.forget(key);
    ctx.rejections.delete(key);
    if (ctx.state.secretMetadata.get(key)?.placeholder) await reconcileWrongType(ctx, key);
    return {};
  }
  const namespace = ctx.state.namespaces.get(secret.namespace);
  if (namespace === undefined || namespace.terminating) return {};

  const { desired, fits, patch } = planPlaceholder(
    secret,
    await ctx.state.candidatesFor(namespace),
    ctx.desiredPlaceholder,
  );
  if (patch !== undefined) {
    // Writing what was already written means someone changed it since: restored with backoff.
    const content = JSON.stringify([fits, desired.dockerConfigJson, desired.status]);
    const wait = ctx.rewrites.delay(key, content);
    if (wait > 0) {
      ctx.log.debug({ waitMs: wait }, "placeholder changed again by another writer; restoring it later");
      return { requeueAfterMs: wait };
    }
    await fill(ctx, key, secret, patch);
    ctx.rewrites.wrote(key, content);
    ctx.writes.count("placeholder");
    ctx.log.debug({ data: patch.data !== undefined, fits }, "placeholder updated");
  }
  const previous = parsePlaceholderStatus(secret.annotations[ANNOTATION_STATUS]).conflicts;
  if (fits) await reportConflicts(ctx, secret, previous, desired.conflicts);
  return {};
}

/** Writes the patch; a refusal is reported on the placeholder before it goes to the work queue (retried slowly). */
async function fill(ctx: Context, key: string, secret: SecretView, patch: PlaceholderPatch) {
  try {
    await ctx.write(secretPath(secret), { method: "PATCH", body: patch, contentType: MERGE_PATCH });
  } catch (err) {
    if (errorClassOf(err) === "rejected") await reportRejected(ctx, key, secret, err as ApiError);
    throw err;
  }
  ctx.rejections.delete(key);
}

/**
 * A refused fill, said in the status annotation if the server lets that alone be written, and by a
 * Warning Event on the transition either way (an Event is an object of its own).
 */
async function reportRejected(ctx: Context, key: string, secret: SecretView, err: ApiError) {
  const outcome = rejectedOutcome(err.reason, err.serverMessage);
  const { patch, transition } = placeholderRejection(secret, outcome, ctx.rejections.has(key));
  if (patch !== undefined) {
    await ctx
      .write(secretPath(secret), { method: "PATCH", body: patch, contentType: MERGE_PATCH })
      .catch((statusErr: unknown) =>
        ctx.log.warn({ err: statusErr }, "status annotation not written either"),
      );
  }
  ctx.rejections.add(key);
  await recordTransition(ctx, secretObject(secret), transition);
}

/** Only the status annotation of a placeholder of another type is written; its data is not ours. */
async function reconcileWrongType(ctx: Context, key: string): Promise<void> {
  const [namespace, name] = splitKey(key);
  const path = `/api/v1/namespaces/${namespace}/secrets/${name}`;
  const found = await getOrUndefined(ctx.http, path);
  if (found === undefined) return;
  const secret = secretView(found);
  if (secret.type === SECRET_TYPE_DOCKER_CONFIG_JSON || !isPlaceholder(secret.annotations)) return;
  const patch = placeholderPatch(secret, { status: WRONG_TYPE_STATUS });
  if (patch !== undefined) await ctx.write(path, { method: "PATCH", body: patch, contentType: MERGE_PATCH });
}

async function reportConflicts(ctx: Context, secret: SecretView, previous: Conflict[], next: Conflict[]) {
  for (const exportKey of ctx.conflicts.set(`${secret.namespace}/${secret.name}`, next)) {
    ctx.queues.exports.add(exportKey);
  }
  await recordTransition(ctx, secretObject(secret), placeholderConflictTransition(previous, next));
}

function forgetConflicts(ctx: Context, key: string) {
  for (const exportKey of ctx.conflicts.set(key, [])) ctx.queues.exports.add(exportKey);
}

const secretObject = (s: SecretView) => ({
  apiVersion: "v1",
  kind: "Secret",
  namespace: s.namespace,
  name: s.name,
});

const secretPath = (s: { namespace: string; name: string }) =>
  `/api/v1/namespaces/${s.namespace}/secrets/${s.name}`;
