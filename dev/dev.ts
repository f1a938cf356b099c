// `npm run dev`: the local control plane, the CRDs, the controller and examples/, in the foreground
// until Ctrl-C; prints what the controller did with the examples and how to look for yourself.
import { execFile } from "node:child_process";
import { copyFile, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { startControlPlane } from "./control-plane.ts";
import { startProcess } from "./processes.ts";
import { untilSignal } from "./signals.ts";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const runDir = join(root, ".run");
const kubeconfig = join(runDir, "dev.kubeconfig");

if (process.argv.includes("--help")) {
  console.log(
    "usage: npm run dev   (a local control plane, the CRDs, the controller and examples/; Ctrl-C stops)",
  );
  process.exit(0);
}
const plane = await startControlPlane();
try {
  await mkdir(runDir, { recursive: true });
  await copyFile(plane.kubeconfigPath, kubeconfig);
  const kubectl = (...args: string[]) => run("kubectl", ["--kubeconfig", kubeconfig, ...args]);
  await kubectl("apply", "-f", join(root, "crds"));
  await kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s");

  const logPath = join(runDir, "dev-controller.log");
  const controller = startProcess(
    process.execPath,
    [join(root, "src/cli.ts"), "run", "--kubeconfig", kubeconfig],
    logPath,
  );
  await kubectl("apply", "-f", join(root, "examples"));
  await new Promise((r) => setTimeout(r, 3_000));

  const exports = await kubectl("get", "secretexports", "-A");
  const credentials = await kubectl("get", "registrycredentials", "-A");
  const placeholders = await kubectl(
    "get",
    "secrets",
    "-A",
    "-o",
    "custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,STATUS:.metadata.annotations.secretgen\\.carvel\\.dev/status",
    "--field-selector",
    "type=kubernetes.io/dockerconfigjson",
  );
  const clusterPlaceholders = await kubectl("get", "clusterplaceholders");
  console.log(`SecretExports:\n${exports.stdout}\nPlaceholders and sources:\n${placeholders.stdout}`);
  console.log(`ClusterPlaceholders:\n${clusterPlaceholders.stdout}`);
  console.log(`RegistryCredentials:\n${credentials.stdout}`);
  console.log(
    [
      `The control plane, the controller and examples/ are running. Try:`,
      `  export KUBECONFIG=${kubeconfig}`,
      `  kubectl -n team-b get secret registry-pull -o jsonpath='{.data.\\.dockerconfigjson}' | base64 -d`,
      `  kubectl -n platform-creds describe secretexport ghcr-creds`,
      `  kubectl -n ci-runner get serviceaccount default -o jsonpath='{.imagePullSecrets}'`,
      `  kubectl label namespace dev-web registry-access=granted   # gets quay-pull too`,
      `  kubectl -n team-b get secret internal-pull -o jsonpath='{.data.\\.dockerconfigjson}' | base64 -d`,
      `Controller log: ${logPath}. Ctrl-C stops everything.`,
    ].join("\n"),
  );
  await Promise.race([
    untilSignal(),
    controller.exited.then((code) => console.error(`controller exited (${code}); see ${logPath}`)),
  ]);
  await controller.stop();
} finally {
  await plane.stop();
}
