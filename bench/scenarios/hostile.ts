// The "hostile" scenario: a tenant fills its namespace with 150 dockerconfigjson Secrets and 150
// Opaque Secrets labelled secretgen.carvel.dev/imported=true, 900 KiB each, none exported or
// imported. The controller's RSS is measured serving a few placeholders without them, with them
// arriving through its watches, and after a restart that lists them; it must keep serving
// throughout (a rotation of the served source reaches every placeholder).
import { LABEL_IMPORTED, SECRET_TYPE_DOCKER_CONFIG_JSON } from "../../src/constants.ts";
import { type BenchClient, inPool, range, withRetry } from "../client.ts";
import { type ControllerUnderTest, startController } from "../controller.ts";
import { baseNodeArgs, type Context, log } from "../context.ts";
import type { Row } from "../report.ts";
import type { Scenario } from "../scenario.ts";

const SECRETS_PER_KIND = 150;
const SECRET_BYTES = 900 * 1024;
const PLACEHOLDERS = 5;
const PREFIX = "bench-hostile";
const TENANT = `${PREFIX}-tenant`;
const SOURCE = `${PREFIX}-platform`;
const REGISTRY = "hostile.registry.example";

export interface HostileOptions {
  http: BenchClient;
  kubeconfig: string;
  entry: string;
  nodeArgs: string[];
  logDir: string;
  log(message: string): void;
}

export async function hostile(options: HostileOptions): Promise<Row[]> {
  const { http, log } = options;
  await servedNamespaces(http);
  const rows: Row[] = [];
  const row = (config: string, controller: ControllerUnderTest, notes: string) =>
    controller
      .usage()
      .then((u) => rows.push({ n: PLACEHOLDERS, scenario: "hostile", config, rssMb: u.rssMb, notes }));

  let controller = await start(options, "hostile-clean");
  const phases: [config: string, run: () => Promise<void>, notes: string][] = [
    ["without tenant data", () => rotateAndServe(1), "5 placeholders served"],
    [
      "tenant data watched",
      async () => {
        log(`hostile: ${2 * SECRETS_PER_KIND} Secrets of ${SECRET_BYTES / 1024} KiB in ${TENANT}`);
        await createTenantData(http);
        await rotateAndServe(2);
      },
      "still serving: rotation reached every placeholder",
    ],
    [
      "restart, tenant data listed",
      async () => {
        await controller.stop();
        controller = await start(options, "hostile-restart");
        await rotateAndServe(3);
      },
      "still serving after a relist",
    ],
  ];
  async function rotateAndServe(version: number) {
    await rotate(http, version);
    await served(http, version, controller);
    await controller.quiesce();
  }
  try {
    for (const [config, run, notes] of phases) {
      const failed = await run().then(
        () => undefined,
        (err: unknown) => String(err),
      );
      if (failed !== undefined) {
        rows.push({ n: PLACEHOLDERS, scenario: "hostile", config, notes: failed });
        break;
      }
      await row(config, controller, notes);
    }
  } finally {
    await controller.stop();
    await deleteNamespaces(http);
  }
  return rows;
}

const start = (options: HostileOptions, name: string) =>
  startController({
    name,
    kubeconfig: options.kubeconfig,
    args: [],
    logDir: options.logDir,
    nodeArgs: options.nodeArgs,
    entry: options.entry,
  });

const namespaces = () => [SOURCE, TENANT, ...range(0, PLACEHOLDERS).map((i) => `${PREFIX}-app-${i}`)];

async function servedNamespaces(http: BenchClient) {
  for (const name of namespaces()) {
    const labels = name.includes("-app-") ? { [PREFIX]: "app" } : {};
    await http.request("/api/v1/namespaces", { method: "POST", body: { metadata: { name, labels } } });
    if (name.includes("-app-")) await http.request(secrets(name), { method: "POST", body: placeholder() });
  }
  await http.request(secrets(SOURCE), { method: "POST", body: dockerSecret("creds", credentials(0)) });
  await http.request(`/apis/secretgen.carvel.dev/v1alpha1/namespaces/${SOURCE}/secretexports`, {
    method: "POST",
    body: {
      apiVersion: "secretgen.carvel.dev/v1alpha1",
      kind: "SecretExport",
      metadata: { name: "creds" },
      spec: { toNamespaceSelector: { matchLabels: { [PREFIX]: "app" } } },
    },
  });
}

async function createTenantData(http: BenchClient) {
  // Just under the size: the API server refuses Secrets whose data exceeds 1 MiB.
  const filler = "A".repeat(SECRET_BYTES - 64);
  await inPool(range(0, SECRETS_PER_KIND), 4, async (i) => {
    await withRetry(() =>
      http.request(secrets(TENANT), {
        method: "POST",
        body: dockerSecret(`docker-${i}`, JSON.stringify({ auths: { [`r${i}.example`]: { auth: filler } } })),
      }),
    );
    await withRetry(() =>
      http.request(secrets(TENANT), {
        method: "POST",
        body: {
          metadata: { name: `forged-${i}`, labels: { [LABEL_IMPORTED]: "true" } },
          data: { blob: Buffer.alloc(SECRET_BYTES, i).toString("base64") },
        },
      }),
    );
  });
}

const credentials = (version: number) =>
  JSON.stringify({ auths: { [REGISTRY]: { username: "u", password: `v${version}` } } });

const rotate = (http: BenchClient, version: number) =>
  http.request(`${secrets(SOURCE)}/creds`, {
    method: "PATCH",
    contentType: "application/merge-patch+json",
    body: { data: { ".dockerconfigjson": Buffer.from(credentials(version)).toString("base64") } },
  });

/** Waits until every placeholder holds this version; fails if the controller exits first. */
async function served(http: BenchClient, version: number, controller?: ControllerUnderTest) {
  const deadline = Date.now() + 300_000;
  const exited = controller?.proc.exited.then((code) => `the controller exited (${code}): see its log`);
  for (;;) {
    const reads = range(0, PLACEHOLDERS).map((i) =>
      http.request<{ data?: Record<string, string> }>(`${secrets(`${PREFIX}-app-${i}`)}/pull`),
    );
    if ((await Promise.all(reads)).every((s) => passwordOf(s.data) === `v${version}`)) return;
    const failed = await Promise.race([exited, new Promise((r) => setTimeout(r, 500, undefined))]);
    if (typeof failed === "string") throw new Error(`hostile: ${failed}`);
    if (Date.now() > deadline) throw new Error(`hostile: placeholders never held version ${version}`);
  }
}

function passwordOf(data: Record<string, string> | undefined): unknown {
  const config = JSON.parse(Buffer.from(data?.[".dockerconfigjson"] ?? "", "base64").toString() || "{}") as {
    auths?: Record<string, { password?: unknown }>;
  };
  return config.auths?.[REGISTRY]?.password;
}

async function deleteNamespaces(http: BenchClient) {
  for (const name of namespaces())
    await http.request(`/api/v1/namespaces/${name}`, { method: "DELETE" }).catch(() => undefined);
}

const secrets = (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`;

const placeholder = () => ({
  metadata: { name: "pull", annotations: { "secretgen.carvel.dev/image-pull-secret": "" } },
  type: SECRET_TYPE_DOCKER_CONFIG_JSON,
  data: { ".dockerconfigjson": Buffer.from("{}").toString("base64") },
});

const dockerSecret = (name: string, config: string) => ({
  metadata: { name },
  type: SECRET_TYPE_DOCKER_CONFIG_JSON,
  data: { ".dockerconfigjson": Buffer.from(config).toString("base64") },
});

/** `--scenario hostile`: the rows above, on the run's control plane, after the round's scenarios. */
export const hostileScenario: Scenario = {
  name: "hostile",
  async run(ctx: Context) {
    log("hostile: tenant data the controller does not serve");
    const rows = await hostile({
      http: ctx.http,
      kubeconfig: ctx.plane.kubeconfigPath,
      entry: ctx.entry,
      nodeArgs: baseNodeArgs(ctx.options),
      logDir: ctx.runDir,
      log,
    });
    return { rows, json: { hostile: rows }, summary: {} };
  },
};
