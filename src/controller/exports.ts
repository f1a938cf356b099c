// Reconcile of one SecretExport's status: what its spec, its source and the placeholders it feeds
// say, written only when it changed, with Events on transitions.
import { SECRET_EXPORT_KIND, SECRET_EXPORT_PLURAL } from "../constants.ts";
import { genericStatus, statusChanged } from "../core/conditions.ts";
import { exportStatusFields } from "../core/export-status.ts";
import { exportTransition, readyReason } from "../core/transitions.ts";
import type { Result } from "../runtime/work-queue.ts";
import type { Context } from "./context.ts";
import { writeStatus } from "./status.ts";
import type { ExportEntry } from "../views/views.ts";

export async function reconcileExport(ctx: Context, key: string): Promise<Result> {
  const entry = ctx.state.exports.get(key);
  if (entry === undefined) {
    ctx.rewrites.forget(key);
    return {};
  }
  const reached = ctx.state.namespacesReachedBy(entry);
  const fields = exportStatusFields({
    problems: entry.destinations.ok ? undefined : entry.destinations.problems,
    source: await sourceOf(ctx, entry),
    conflicts: ctx.conflicts.of(key),
    namespacesReached: reached.length,
    reachedNamespaces: reached,
  });
  const desired = {
    ...genericStatus(fields.outcome, entry.generation, ctx.now(), entry.status.conditions),
    ...(fields.observedSecretResourceVersion === undefined
      ? {}
      : { observedSecretResourceVersion: fields.observedSecretResourceVersion }),
    namespacesReached: fields.namespacesReached,
  };
  if (!statusChanged(entry.status, desired)) return {};
  // observedSecretResourceVersion may have to disappear: null removes it in a merge patch.
  const body = { status: { observedSecretResourceVersion: null, ...desired } };
  // The same status again right after writing it is a reconcile that ran before the cache saw the
  // write (another change queued the export meanwhile): held back, not written twice.
  const content = JSON.stringify(body);
  const wait = ctx.rewrites.delay(key, content);
  if (wait > 0) return { requeueAfterMs: wait };
  const transition = exportTransition(readyReason(entry.status.conditions), fields.outcome);
  await writeStatus(ctx, EXPORT, entry, body, transition);
  ctx.rewrites.wrote(key, content);
  return {};
}

/** The source, with its parsed .dockerconfigjson when it has that type. */
async function sourceOf(ctx: Context, entry: ExportEntry) {
  const key = `${entry.namespace}/${entry.name}`;
  const docker = ctx.state.dockerSecrets.get(key);
  if (docker !== undefined) {
    return {
      resourceVersion: docker.resourceVersion,
      type: docker.type,
      parsed: ctx.state.parsedSource(docker),
    };
  }
  return ctx.state.sourceData(key);
}

const EXPORT = { kind: SECRET_EXPORT_KIND, plural: SECRET_EXPORT_PLURAL };
