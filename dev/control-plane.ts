// A real local control plane for development and tests: etcd, kube-apiserver (RBAC on) and
// kube-controller-manager, built from source by scripts/control-plane-binaries.sh, all on loopback.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { certificates } from "./certificates.ts";
import { freePort, startProcess, type RunningProcess, waitUntil, httpsStatus } from "./processes.ts";

export interface ControlPlane {
  /** Admin kubeconfig (client certificate in system:masters). */
  kubeconfigPath: string;
  server: string;
  dir: string;
  /** etcd's client URL (plain HTTP on loopback), for fault tests that talk to etcd itself. */
  etcdUrl: string;
  /** Stops and restarts kube-apiserver on the same port and data, for fault tests. */
  restartApiServer(downForMs?: number): Promise<void>;
  /** Stops and restarts etcd on the same ports and data, for fault tests. */
  restartEtcd(downForMs?: number): Promise<void>;
  /** Process ids by name (etcd, kube-apiserver, kube-controller-manager), for the benchmark's CPU accounting. */
  pids(): Record<string, number>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags, after the default ones (a later flag wins). */
  apiServerArgs?: string[];
}

const CONTROLLERS = [
  "garbage-collector-controller",
  "namespace-controller",
  "serviceaccount-controller",
  "clusterrole-aggregation-controller",
  "root-ca-certificate-publisher-controller",
].join(",");

export function binariesDir(): string {
  if (process.env.SEC_TESTBIN_DIR) return process.env.SEC_TESTBIN_DIR;
  const script = resolve(import.meta.dirname, "../scripts/control-plane-binaries.sh");
  return execFileSync(script, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const bin = binariesDir();
  const dir = await mkdtemp(join(tmpdir(), "sec-control-plane-"));
  const started: RunningProcess[] = [];
  try {
    const certs = await certificates(dir);
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;

    const startEtcd = async () => {
      const etcd = startProcess(join(bin, "etcd"), etcdArgs(dir, etcdPort, peerPort), join(dir, "etcd.log"));
      await waitUntil("etcd healthy", 30_000, async () => (await fetch(`${etcdUrl}/health`)).ok, etcd);
      return etcd;
    };
    let etcd = await startEtcd();
    started.push(etcd);

    const apiArgs = [...apiServerArgs(dir, certs, etcdUrl, apiPort), ...(options.apiServerArgs ?? [])];
    const startApi = async () => {
      const api = startProcess(join(bin, "kube-apiserver"), apiArgs, join(dir, "kube-apiserver.log"));
      await waitUntil(
        "kube-apiserver ready",
        120_000,
        async () => (await httpsStatus(`${server}/readyz`, certs.ca)) === 200,
        api,
      );
      return api;
    };
    let api = await startApi();
    started.push(api);

    const kubeconfigPath = join(dir, "admin.kubeconfig");
    await writeFile(kubeconfigPath, adminKubeconfig(server, certs));
    const kcm = startProcess(
      join(bin, "kube-controller-manager"),
      [
        `--kubeconfig=${kubeconfigPath}`,
        `--controllers=${CONTROLLERS}`,
        `--root-ca-file=${certs.ca}`,
        "--leader-elect=false",
        "--secure-port=0",
        "--v=1",
      ],
      join(dir, "kube-controller-manager.log"),
    );
    started.push(kcm);

    return {
      kubeconfigPath,
      server,
      dir,
      etcdUrl,
      async restartApiServer(downForMs = 0) {
        await api.stop();
        await new Promise((r) => setTimeout(r, downForMs));
        api = await startApi();
        started[1] = api;
      },
      async restartEtcd(downForMs = 0) {
        await etcd.stop();
        await new Promise((r) => setTimeout(r, downForMs));
        etcd = await startEtcd();
        started[0] = etcd;
      },
      pids: () => Object.fromEntries(started.flatMap((p) => (p.child.pid ? [[p.name, p.child.pid]] : []))),
      async stop() {
        await stopAll(started);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll(started);
    throw new Error(`control plane did not start; logs in ${dir}`, { cause: err });
  }
}

async function stopAll(processes: RunningProcess[]): Promise<void> {
  for (const p of [...processes].reverse()) await p.stop();
}

function etcdArgs(dir: string, port: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    "--name=test",
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

function apiServerArgs(dir: string, certs: Certificates, etcdUrl: string, port: number): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    "--advertise-address=127.0.0.1",
    "--endpoint-reconciler-type=none",
    `--cert-dir=${join(dir, "apiserver-certs")}`,
    `--tls-cert-file=${certs.serverCert}`,
    `--tls-private-key-file=${certs.serverKey}`,
    `--client-ca-file=${certs.ca}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${certs.serviceAccountKey}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--disable-admission-plugins=ServiceAccount",
    "--allow-privileged=true",
    "--v=1",
  ];
}

type Certificates = Awaited<ReturnType<typeof certificates>>;

function adminKubeconfig(server: string, certs: Certificates): string {
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server, "certificate-authority": certs.ca } }],
      users: [
        { name: "admin", user: { "client-certificate": certs.adminCert, "client-key": certs.adminKey } },
      ],
      contexts: [{ name: "admin", context: { cluster: "local", user: "admin" } }],
      "current-context": "admin",
    },
    null,
    2,
  );
}
