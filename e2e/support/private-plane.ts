// A control plane of one test file's own, for faults that stop, restart or break it: the run's shared
// plane must stay healthy for the other files. Test files run in processes of their own, so pointing
// SEC_E2E_KUBECONFIG at the private plane makes every e2e/support helper (fixtures, testNamespace,
// installCrds, adminKubeConfig) talk to it, with no second set of helpers.
import { mkdir } from "node:fs/promises";
import { after, before } from "node:test";
import { type ControlPlane, type ControlPlaneOptions, startControlPlane } from "../../dev/control-plane.ts";
import { installCrds } from "./controller.ts";

/** Starts a private control plane (with the CRDs) before this file's tests and stops it after them. */
export function usePrivateControlPlane(options: ControlPlaneOptions = {}): () => ControlPlane {
  let plane: ControlPlane | undefined;
  let shared: string | undefined;
  before(async () => {
    await mkdir(".run", { recursive: true });
    plane = await startControlPlane(options);
    shared = process.env.SEC_E2E_KUBECONFIG;
    process.env.SEC_E2E_KUBECONFIG = plane.kubeconfigPath;
    await installCrds();
  });
  after(async () => {
    if (shared === undefined) delete process.env.SEC_E2E_KUBECONFIG;
    else process.env.SEC_E2E_KUBECONFIG = shared;
    await plane?.stop();
  });
  return () => {
    if (!plane) throw new Error("the private control plane is not running");
    return plane;
  };
}
