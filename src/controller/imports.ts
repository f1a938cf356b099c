// Reconcile of one SecretImport: read the caches, decide with the pure core, write the copy (never a
// Secret this import does not control), report status and Events on transitions.
import {
  API_VERSION,
  CONDITION_READY,
  EVENT_IMPORT_REMOVED,
  REASON_IMPORTED,
  REASON_SECRET_EXISTS,
  REASON_WRITE_REJECTED,
  SECRET_IMPORT_KIND,
  SECRET_IMPORT_PLURAL,
} from "../constants.ts";
import { rejectedOutcome } from "../core/api-errors.ts";
import { genericStatus, type Outcome, statusChanged } from "../core/conditions.ts";
import { type Action, decideImport, type ExistingSecret } from "../core/imports.ts";
import { type ApiError, statusOf } from "../runtime/kube-http.ts";
import type { Result } from "../runtime/work-queue.ts";
import { type Context, MERGE_PATCH } from "./context.ts";
import { errorClassOf } from "./errors.ts";
import { copyView, type ImportEntry, importFacts } from "../views/views.ts";

export async function reconcileImport(ctx: Context, key: string): Promise<Result> {
  const entry = ctx.state.imports.get(key);
  if (entry === undefined) {
    ctx.rewrites.forget(key);
    return {}; // the copy goes with its owner (ownerReference garbage collection)
  }
  const source = entry.spec.ok ? await offeredSource(ctx, entry, entry.spec.spec.fromNamespace) : undefined;
  const decision = decideImport(importFacts(entry, source, await existingSecret(ctx, entry)));
  // Writing the copy it already wrote means someone changed or deleted it since: restored with backoff.
  const kind = decision.action.kind;
  const content =
    kind === "create" || kind === "patch" || kind === "replace"
      ? JSON.stringify([source?.type, source?.data, entry.labels, entry.annotations])
      : undefined;
  const wait = content === undefined ? 0 : ctx.rewrites.delay(key, content);
  if (wait > 0) {
    ctx.log.debug({ waitMs: wait }, "copy changed again by another writer; restoring it later");
    return { requeueAfterMs: wait };
  }
  try {
    if ((await apply(ctx, entry, decision.action)) === "lost") {
      // Someone else's Secret took that name since the caches were read: nothing is reported until
      // this import has read it and decided again (its watch event brings the import back too).
      return { requeueAfterMs: LOST_CREATE_RETRY_MS };
    }
  } catch (err) {
    // A rejection is said on the import; the work queue retries it in minutes, or a change sooner.
    if (errorClassOf(err) === "rejected") {
      const { reason, serverMessage } = err as ApiError;
      await report(ctx, entry, { outcome: rejectedOutcome(reason, serverMessage) });
    }
    throw err;
  }
  if (content !== undefined) ctx.rewrites.wrote(key, content);
  else if (kind === "delete") ctx.rewrites.forget(key);
  await report(ctx, entry, decision);
  return {};
}

/** How soon an import whose create lost a race decides again, if no watch event comes first. */
const LOST_CREATE_RETRY_MS = 1_000;

async function report(
  ctx: Context,
  entry: ImportEntry,
  decision: Pick<ReturnType<typeof decideImport>, "outcome">,
) {
  const desired = genericStatus(decision.outcome, entry.generation, ctx.now(), entry.status.conditions);
  if (!statusChanged(entry.status, desired)) return;
  const path = `/apis/${API_VERSION}/namespaces/${entry.namespace}/${SECRET_IMPORT_PLURAL}/${entry.name}/status`;
  await ctx.write(path, { method: "PATCH", body: { status: desired }, contentType: MERGE_PATCH });
  await reportTransition(ctx, entry, decision.outcome);
}

/** The source of export fromNamespace/name, if that export is valid, reaches the import's namespace and its source exists. */
async function offeredSource(ctx: Context, entry: ImportEntry, fromNamespace: string) {
  const sourceKey = `${fromNamespace}/${entry.name}`;
  const exported = ctx.state.exports.get(sourceKey);
  const namespace = ctx.state.namespaces.get(entry.namespace);
  if (exported === undefined || namespace === undefined) return undefined;
  if (ctx.state.reachOf(exported, namespace)?.reached !== true) return undefined;
  return ctx.state.sourceData(sourceKey);
}

/**
 * The Secret the copy would be: our labelled copy from its cache, or, when something else sits at
 * that name (or a copy carvel made, which this import controls but has no label), read whole.
 */
async function existingSecret(ctx: Context, entry: ImportEntry): Promise<ExistingSecret | undefined> {
  const key = `${entry.namespace}/${entry.name}`;
  const copy = ctx.state.copies.get(key);
  if (copy !== undefined) return copy;
  const found = await ctx.state.readSecret(key);
  return found && copyView(found);
}

/** Writes the decided action; "lost" when the create found a Secret at that name (409). */
async function apply(ctx: Context, entry: ImportEntry, action: Action): Promise<"written" | "lost" | "none"> {
  const path = secretPath(entry);
  const collection = `/api/v1/namespaces/${entry.namespace}/secrets`;
  switch (action.kind) {
    case "none":
      return "none";
    case "create":
      try {
        await ctx.write(collection, { method: "POST", body: action.copy });
      } catch (err) {
        if (statusOf(err) === 409) return "lost";
        throw err;
      }
      break;
    case "patch":
      await ctx.write(path, { method: "PATCH", body: action.patch, contentType: MERGE_PATCH });
      break;
    case "replace":
      // A Secret's type is immutable. The old copy is deleted only if it is still the one decided
      // on (UID and resourceVersion, as on delete); Pods see the old Secret, then none until the
      // create succeeds, then the new one, never a mix.
      await ctx.write(path, {
        method: "DELETE",
        body: { preconditions: { uid: action.uid, resourceVersion: action.resourceVersion } },
      });
      await ctx.write(collection, { method: "POST", body: action.copy });
      break;
    case "delete":
      await ctx.write(path, {
        method: "DELETE",
        body: { preconditions: { uid: action.uid, resourceVersion: action.resourceVersion } },
      });
      break;
  }
  ctx.log.info({ action: action.kind }, "imported copy written");
  return "written";
}

async function reportTransition(ctx: Context, entry: ImportEntry, outcome: Outcome) {
  const before = entry.status.conditions?.find((c) => c.type === CONDITION_READY)?.reason;
  const { reason, message, ready } = outcome;
  if (before === reason) return;
  const involved = {
    apiVersion: API_VERSION,
    kind: SECRET_IMPORT_KIND,
    namespace: entry.namespace,
    name: entry.name,
    uid: entry.uid,
  };
  if (ready) await ctx.events.emit(involved, "Normal", REASON_IMPORTED, message);
  else if (reason === REASON_SECRET_EXISTS || reason === REASON_WRITE_REJECTED)
    await ctx.events.emit(involved, "Warning", reason, message);
  else if (before === REASON_IMPORTED)
    await ctx.events.emit(involved, "Warning", EVENT_IMPORT_REMOVED, message);
  else await ctx.events.emit(involved, "Warning", reason, message);
}

const secretPath = (entry: ImportEntry) => `/api/v1/namespaces/${entry.namespace}/secrets/${entry.name}`;
