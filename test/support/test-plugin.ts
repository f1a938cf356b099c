// A kubelet credential provider plugin for tests, speaking credentialprovider.kubelet.k8s.io/v1:
// reads a CredentialProviderRequest on stdin, answers with the image's host as the auth key, the
// password from $TEST_PLUGIN_PASSWORD and the cache duration from $TEST_PLUGIN_CACHE. It counts
// its runs in $TEST_PLUGIN_COUNT_FILE when set, so tests can see how often it was called.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const SOURCE = `#!/usr/bin/env node
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  if (request.apiVersion !== "credentialprovider.kubelet.k8s.io/v1" || request.kind !== "CredentialProviderRequest") process.exit(2);
  if (process.env.TEST_PLUGIN_COUNT_FILE) require("node:fs").appendFileSync(process.env.TEST_PLUGIN_COUNT_FILE, "x");
  const host = request.image.split("/")[0];
  process.stdout.write(JSON.stringify({
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    kind: "CredentialProviderResponse",
    cacheKeyType: "Registry",
    cacheDuration: process.env.TEST_PLUGIN_CACHE || "0s",
    auth: { [host]: { username: "plugin-user", password: process.env.TEST_PLUGIN_PASSWORD } },
  }));
});
`;

export async function writeTestPlugin(binDir: string, name: string): Promise<string> {
  await mkdir(binDir, { recursive: true });
  const path = join(binDir, name);
  await writeFile(path, SOURCE.replace("#!/usr/bin/env node", `#!${process.execPath}`));
  await chmod(path, 0o755);
  return path;
}
