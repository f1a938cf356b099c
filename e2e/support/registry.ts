// A real container registry for the tests that check what the controller writes is what registry
// clients use: the Distribution registry with htpasswd (bcrypt) basic auth and TLS on a loopback
// port, the crane client, and a tiny OCI image written here. The binaries come from
// scripts/test-tools.sh (SEC_TEST_TOOLS_DIR when scripts/test.sh has built them already).
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { certificates } from "../../dev/certificates.ts";
import { freePort, httpsStatus, startProcess, waitUntil } from "../../dev/processes.ts";

const run = promisify(execFile);

export function toolsDir(): string {
  if (process.env.SEC_TEST_TOOLS_DIR) return process.env.SEC_TEST_TOOLS_DIR;
  const script = resolve(import.meta.dirname, "../../scripts/test-tools.sh");
  return execFileSync(script, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export interface Registry {
  /** HOST:PORT, as image references and docker config keys name it. */
  host: string;
  /** The CA that signed its serving certificate. */
  ca: string;
  /** Replaces the htpasswd file (the registry rereads it when it changes). */
  setUsers(users: Record<string, string>): Promise<void>;
}

/** Starts a registry with these users (name → password); stopped when the test ends. */
export async function startRegistry(t: TestContext, users: Record<string, string>): Promise<Registry> {
  const tools = toolsDir();
  const dir = await mkdtemp(join(tmpdir(), "sec-registry-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certs = await certificates(dir);
  const port = await freePort();
  const htpasswd = join(dir, "htpasswd");
  const setUsers = async (next: Record<string, string>) => {
    const lines: string[] = [];
    for (const [user, password] of Object.entries(next)) {
      const child = run(join(tools, "htpasswd-bcrypt"), [user]);
      child.child.stdin?.end(`${password}\n`);
      lines.push((await child).stdout.trim());
    }
    await writeFile(`${htpasswd}.tmp`, `${lines.join("\n")}\n`);
    await run("mv", [`${htpasswd}.tmp`, htpasswd]);
  };
  await setUsers(users);
  await writeFile(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log: { level: warn }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} } }`,
      `http: { addr: "127.0.0.1:${port}", secret: ${randomBytes(16).toString("hex")}, tls: { certificate: ${certs.serverCert}, key: ${certs.serverKey} } }`,
      `auth: { htpasswd: { realm: test, path: ${htpasswd} } }`,
      "",
    ].join("\n"),
  );
  const proc = startProcess(
    join(tools, "registry"),
    ["serve", join(dir, "config.yml")],
    join(dir, "registry.log"),
    {
      ...process.env,
      OTEL_TRACES_EXPORTER: "none",
    },
  );
  t.after(() => proc.stop());
  const base = `https://127.0.0.1:${port}`;
  await waitUntil(
    "registry answering /v2/",
    30_000,
    async () => (await httpsStatus(`${base}/v2/`, certs.ca)) === 401,
    proc,
  );
  return { host: `127.0.0.1:${port}`, ca: certs.ca, setUsers };
}

/** `crane ...args` with this docker config (a folder with config.json; none: anonymous); stdout. */
export async function crane(
  registry: Registry,
  dockerConfig: string | undefined,
  ...args: string[]
): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "sec-crane-"));
  try {
    const { stdout } = await run(join(toolsDir(), "crane"), args, {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        DOCKER_CONFIG: dockerConfig ?? home,
        SSL_CERT_FILE: registry.ca,
      },
    });
    return stdout.trim();
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`crane ${args.join(" ")} failed: ${stderr ?? ""}`, { cause: err });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** A folder with a docker config.json holding this `.dockerconfigjson` text; removed when the test ends. */
export async function dockerConfigDir(t: TestContext, dockerConfigJson: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sec-docker-config-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "config.json"), dockerConfigJson, { mode: 0o600 });
  return dir;
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/**
 * A one-layer OCI image layout (the layer an empty tar) in a new folder, and its manifest digest.
 * `label` makes each image distinct.
 */
export async function writeImage(t: TestContext, label: string): Promise<{ layout: string; digest: string }> {
  const layout = await mkdtemp(join(tmpdir(), "sec-image-"));
  t.after(() => rm(layout, { recursive: true, force: true }));
  const blobs = join(layout, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const blob = async (bytes: Buffer | string, mediaType: string) => {
    const digest = sha256(bytes);
    await writeFile(join(blobs, digest.slice("sha256:".length)), bytes);
    return { mediaType, digest, size: Buffer.byteLength(bytes) };
  };
  const tar = Buffer.alloc(1024); // two zero blocks: an empty archive
  const layer = await blob(gzipSync(tar), "application/vnd.oci.image.layer.v1.tar+gzip");
  const config = await blob(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Labels: { test: label } },
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
    }),
    "application/vnd.oci.image.config.v1+json",
  );
  const manifest = await blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config,
      layers: [layer],
    }),
    "application/vnd.oci.image.manifest.v1+json",
  );
  await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [manifest],
    }),
  );
  return { layout, digest: manifest.digest };
}
