// Reconcile of one SecretExport's status: what its spec, its source and the placeholders it feeds
// say, written only when it changed, with Events on transitions.
import { SECRET_EXPORT_KIND, SECRET_EXPORT_PLURAL, SECRET_TYPE_DOCKER_CONFIG_JSON } from "../constants.ts";
import { genericStatus, statusChanged } from "../core/conditions.ts";
import { exportStatusFields } from "../core/export-status.ts";
import { exportTransition, readyReason } from "../core/transitions.ts";
import type { Result } from "../runtime/work-queue.ts";
import type { Context } from "./context.ts";
import { writeStatus } from "./status.ts";
import { type ExportEntry, isPlaceholder } from "../views/views.ts";

export async function reconcileExport(ctx: Context, key: string): Promise<Result> {
  const cachedEntry = ctx.state.exports.get(key);
  if (cachedEntry === undefined) {
    ctx.rewrites.forget(key);
    ctx.rejections.delete(key);
    ctx.exportStatuses.forget(key);
    return {};
  }
  const status = ctx.exportStatuses.current(key, cachedEntry.resourceVersion, cachedEntry.status);
  const entry = { ...cachedEntry, status };
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
  const written = await writeStatus(ctx, EXPORT, entry, body, transition);
  ctx.rewrites.wrote(key, content);
  ctx.exportStatuses.wrote(key, written?.metadata?.resourceVersion, desired);
  return {};
}

/** The source, with its parsed .dockerconfigjson when it has that type. */
async function sourceOf(ctx: Context, entry: ExportEntry) {
  const source = await ctx.state.sourceData(`${entry.namespace}/${entry.name}`);
  if (source === undefined) return undefined;
  const { resourceVersion, type, annotations } = source;
  const placeholder = isPlaceholder(annotations);
  if (type !== SECRET_TYPE_DOCKER_CONFIG_JSON) return { resourceVersion, type, placeholder };
  return { resourceVersion, type, placeholder, parsed: ctx.state.parsedSource(source) };
}

const EXPORT = { kind: SECRET_EXPORT_KIND, plural: SECRET_EXPORT_PLURAL };
