// The status write SecretExport and SecretImport share: the status subresource patched, then the
// Events of the transition recorded on the object; a refused one is a WriteRejected Event instead.
import { API_VERSION } from "../constants.ts";
import { rejectedOutcome } from "../core/api-errors.ts";
import { keyOf } from "../core/keys.ts";
import { rejectionTransition } from "../core/rejections.ts";
import type { Transition } from "../core/transitions.ts";
import { type Context, MERGE_PATCH } from "./context.ts";
import { errorClassOf } from "./errors.ts";
import type { InvolvedObject } from "./events.ts";
import type { ApiError, KubeObject } from "../runtime/kube-http.ts";

interface StatusOwner {
  namespace: string;
  name: string;
  uid: string;
}

export async function writeStatus(
  ctx: Context,
  resource: { kind: string; plural: string },
  owner: StatusOwner,
  body: unknown,
  transition: Transition,
): Promise<KubeObject | undefined> {
  const { namespace, name, uid } = owner;
  const key = keyOf(owner);
  const involved = { apiVersion: API_VERSION, kind: resource.kind, namespace, name, uid };
  const path = `/apis/${API_VERSION}/namespaces/${namespace}/${resource.plural}/${name}/status`;
  const written = await ctx
    .write<KubeObject | undefined>(path, { method: "PATCH", body, contentType: MERGE_PATCH })
    .catch(async (err: unknown) => {
      await reportRejected(ctx, key, involved, err);
      throw err;
    });
  ctx.rejections.delete(key);
  await recordTransition(ctx, involved, transition);
  return written;
}

/** A refused status write: a Warning Event WriteRejected, once until a write of it succeeds. */
async function reportRejected(ctx: Context, key: string, involved: InvolvedObject, err: unknown) {
  if (errorClassOf(err) !== "rejected") return;
  const { reason, serverMessage } = err as ApiError;
  const transition = rejectionTransition(ctx.rejections.has(key), rejectedOutcome(reason, serverMessage));
  ctx.rejections.add(key);
  await recordTransition(ctx, involved, transition);
}

export async function recordTransition(ctx: Context, involved: InvolvedObject, transition: Transition) {
  for (const event of transition.events) {
    await ctx.events.emit(involved, event.type, event.reason, event.message);
  }
}
