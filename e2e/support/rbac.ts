// The controller's own identity, exactly as config/ installs it: its Namespace, ServiceAccount,
// ClusterRole, Role and bindings applied with kubectl to the run's API server, and a kubeconfig
// holding a token of that ServiceAccount. Running the controller with it proves the RBAC suffices.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { serviceAccountKubeConfig } from "./cluster.ts";

const root = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

export const CONTROLLER_NAMESPACE = "secret-export-controller";
export const CONTROLLER_SERVICE_ACCOUNT = "secret-export-controller";
export const CONTROLLER_USER = `system:serviceaccount:${CONTROLLER_NAMESPACE}:${CONTROLLER_SERVICE_ACCOUNT}`;

/** The files of config/ that make the controller's identity (not the Deployment: no kubelet here). */
const RBAC_FILES = [
  "namespace.yaml",
  "serviceaccount.yaml",
  "clusterrole.yaml",
  "clusterrolebinding.yaml",
  "role.yaml",
  "rolebinding.yaml",
];

/** `kubectl --kubeconfig <the run's admin kubeconfig> ...args`, from the repository root; stdout. */
export async function kubectl(...args: string[]): Promise<string> {
  const kubeconfig = process.env.SEC_E2E_KUBECONFIG;
  if (!kubeconfig) throw new Error("SEC_E2E_KUBECONFIG is not set: run e2e tests through `npm test`");
  try {
    const { stdout } = await run("kubectl", ["--kubeconfig", kubeconfig, ...args], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(`kubectl ${args.join(" ")} failed:\n${stderr ?? ""}${stdout ?? ""}`, { cause: err });
  }
}

/** Applies config/'s Namespace, ServiceAccount and RBAC (idempotent; left in place for the run). */
export async function applyControllerRbac(): Promise<void> {
  await kubectl("apply", ...RBAC_FILES.flatMap((file) => ["-f", join("config", file)]));
}

/** The controller's ServiceAccount, with config/'s RBAC applied, as a KubeConfig. */
export async function controllerKubeConfig(): Promise<KubeConfig> {
  await applyControllerRbac();
  return serviceAccountKubeConfig(CONTROLLER_NAMESPACE, CONTROLLER_SERVICE_ACCOUNT);
}

/** The same, as a kubeconfig file under .run/ (for a controller process): its path. */
export async function controllerKubeConfigFile(): Promise<string> {
  const kc = await controllerKubeConfig();
  const path = join(root, ".run", `kubeconfig-${CONTROLLER_SERVICE_ACCOUNT}.json`);
  await mkdir(join(root, ".run"), { recursive: true });
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}
