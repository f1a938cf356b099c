// One control plane for the whole test run, shared by every e2e test file through SEC_E2E_KUBECONFIG.
import { type ControlPlane, startControlPlane } from "../../dev/control-plane.ts";

let plane: ControlPlane | undefined;

export async function globalSetup(): Promise<void> {
  const started = Date.now();
  plane = await startControlPlane();
  process.env.SEC_E2E_KUBECONFIG = plane.kubeconfigPath;
  process.env.SEC_E2E_CONTROL_PLANE_DIR = plane.dir;
  console.log(`control plane ready at ${plane.server} in ${Date.now() - started} ms`);
}

export async function globalTeardown(): Promise<void> {
  await plane?.stop();
}
