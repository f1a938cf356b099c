// The status write SecretExport and SecretImport share: the status subresource patched, then the
// Events of the transition recorded on the object.
import { API_VERSION } from "../constants.ts";
import type { Transition } from "../core/transitions.ts";
import { type Context, MERGE_PATCH } from "./context.ts";
import type { InvolvedObject } from "./events.ts";
import type { KubeObject } from "../runtime/kube-http.ts";

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
  const path = `/apis/${API_VERSION}/namespaces/${namespace}/${resource.plural}/${name}/status`;
  const written = await ctx.write<KubeObject | undefined>(path, {
    method: "PATCH",
    body,
    contentType: MERGE_PATCH,
  });
  await recordTransition(
    ctx,
    { apiVersion: API_VERSION, kind: resource.kind, namespace, name, uid },
    transition,
  );
  return written;
}

export async function recordTransition(ctx: Context, involved: InvolvedObject, transition: Transition) {
  for (const event of transition.events) {
    await ctx.events.emit(involved, event.type, event.reason, event.message);
  }
}
