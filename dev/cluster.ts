// `npm run cluster -- --kubeconfig PATH`: runs the local control plane in the foreground until
// Ctrl-C or SIGTERM, with an admin kubeconfig written to PATH once the API server is ready.
import { copyFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startControlPlane } from "./control-plane.ts";
import { untilSignal } from "./signals.ts";

const { values } = parseArgs({ options: { kubeconfig: { type: "string" } } });
if (!values.kubeconfig) {
  console.error("usage: npm run cluster -- --kubeconfig PATH");
  process.exit(2);
}
const target = resolve(values.kubeconfig);
const plane = await startControlPlane();
try {
  await copyFile(plane.kubeconfigPath, target);
  console.log(`cluster ready at ${plane.server}; kubeconfig written to ${target} (Ctrl-C stops it)`);
  await untilSignal();
} finally {
  await plane.stop();
}
