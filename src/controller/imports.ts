// Reconcile of one SecretImport: read the caches, decide with the pure core, write the copy (never a
// Secret this import does not control), report status and Events on transitions.
import { SECRET_IMPORT_KIND, SECRET_IMPORT_PLURAL } from "../constants.ts";
import { rejectedOutcome } from "../core/api-errors.ts";
import { genericStatus, type Readiness, statusChanged } from "../core/conditions.ts";
import {
  type Action,
  decideImport,
  type ExistingSecret,
  type ImportSource,
  offeredSecret,
  whyNotOffered,
} from "../core/imports.ts";
import { importTransition, readyReason } from "../core/transitions.ts";
import { type ApiError, statusOf } from "../runtime/kube-http.ts";
import type { Result } from "../runtime/work-queue.ts";
import { type Context, MERGE_PATCH } from "./context.ts";
import { errorClassOf } from "./errors.ts";
import { writeStatus } from "./status.ts";
import { copyView, type ImportEntry, importFacts } from "../views/views.ts";

export async function reconcileImport(ctx: Context, key: string): Promise<Result> {
  const entry = ctx.state.imports.get(key);
  if (entry === undefined) {
    ctx.rewrites.forget(key);
    ctx.rejections.delete(key);
    return {}; // the copy goes with its owner (ownerReference garbage collection)
  }
  const source = await offeredSource(ctx, entry);
  const decision = decideImport(importFacts(entry, source, await existingSecret(ctx, entry)));
  // Writing the copy it already wrote means someone changed or deleted it since: restored with backoff.
  const kind = decision.action.kind;
  const content =
    kind === "create" || kind === "patch" || kind === "replace"
      ? JSON.stringify([source, entry.labels, entry.annotations])
      : undefined;
  const wait = content === undefined ? 0 : ctx.rewrites.delay(key, content);
  if (wait > 0) {
    ctx.log.debug({ waitMs: wait }, "copy changed again by another writer; restoring it later");
    return { requeueAfterMs: wait };
  }
  try {
    if ((await perform(ctx, entry, decision.action)) === "lost") {
      // Someone else's Secret took that name since the caches were read: nothing is reported until
      // this import has read it and decided again (its watch event brings the import back too).
      return { requeueAfterMs: LOST_CREATE_RETRY_MS };
    }
  } catch (err) {
    // A rejection is said on the import; the work queue retries it in minutes, or a change sooner.
    if (errorClassOf(err) === "rejected") {
      const { reason, serverMessage } = err as ApiError;
      await report(ctx, entry, rejectedOutcome(reason, serverMessage));
    }
    throw err;
  }
  if (content !== undefined) ctx.rewrites.wrote(key, content);
  else if (kind === "delete") ctx.rewrites.forget(key);
  await report(ctx, entry, decision.outcome);
  return {};
}

/** How soon an import whose create lost a race decides again, if no watch event comes first. */
const LOST_CREATE_RETRY_MS = 1_000;

async function report(ctx: Context, entry: ImportEntry, outcome: Readiness) {
  const desired = genericStatus(outcome, entry.generation, ctx.now(), entry.status.conditions);
  if (!statusChanged(entry.status, desired)) return;
  const transition = importTransition(readyReason(entry.status.conditions), outcome);
  await writeStatus(ctx, IMPORT, entry, { status: desired }, transition);
}

/** The source of export fromNamespace/name, read only once that export offers it to the import's namespace. */
async function offeredSource(ctx: Context, entry: ImportEntry): Promise<ImportSource> {
  if (!entry.spec.ok) return { kind: "noExport" }; // decideImport reports the invalid spec first
  const sourceKey = `${entry.spec.spec.fromNamespace}/${entry.name}`;
  const namespace = ctx.state.namespaces.get(entry.namespace);
  const notOffered = whyNotOffered(namespace, ctx.state.exports.get(sourceKey));
  return notOffered ?? offeredSecret(await ctx.state.sourceData(sourceKey));
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
async function perform(
  ctx: Context,
  entry: ImportEntry,
  action: Action,
): Promise<"written" | "lost" | "none"> {
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
  ctx.writes.count("import");
  ctx.log.debug({ action: action.kind }, "imported copy written");
  return "written";
}

const secretPath = (entry: ImportEntry) => `/api/v1/namespaces/${entry.namespace}/secrets/${entry.name}`;
const IMPORT = { kind: SECRET_IMPORT_KIND, plural: SECRET_IMPORT_PLURAL };
