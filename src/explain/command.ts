// secret-export-controller explain: reads the cluster once and prints why a namespace gets (or does
// not get) which credentials, as text or as JSON (the Explanation of ./explain.ts).
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeHttp } from "../runtime/kube-http.ts";
import { explain } from "./explain.ts";
import { readCluster } from "./read-cluster.ts";
import {
  explainClusterPlaceholders,
  readClusterPlaceholders,
  renderClusterPlaceholders,
} from "./cluster-placeholders.ts";
import { renderText } from "./render.ts";

export const EXPLAIN_USAGE = `usage: secret-export-controller explain --namespace N [--secret NAME]
                                       [-o text|json] [--kubeconfig PATH]

Reads the cluster once and prints which SecretExports reach namespace N and
by which rule (or why not), the registries each placeholder in N gets and
from which export, conflicts and how to resolve them, whether each
placeholder is in sync, and whether each SecretImport in N is satisfied. It
decides with the controller's own functions; it never prints a credential.

  -n, --namespace N      the namespace to explain (required)
      --secret NAME      only the placeholder and the SecretImport named NAME
  -o, --output FORMAT    text (default) or json (schemaVersion 1, see docs/explain.md)
      --kubeconfig PATH  default: $KUBECONFIG, ~/.kube/config, then in-cluster
  -h, --help             this text`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface ExplainArgs {
  namespace: string;
  secret: string | undefined;
  output: "text" | "json";
  kubeconfig: string | undefined;
}

export class UsageError extends Error {}

/** The parsed arguments, "help", or a UsageError. */
export function parseExplainArgs(argv: string[]): ExplainArgs | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        namespace: { type: "string", short: "n" },
        secret: { type: "string" },
        output: { type: "string", short: "o", default: "text" },
        kubeconfig: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  const { namespace, secret, output, kubeconfig } = values;
  if (namespace === undefined) throw new UsageError("--namespace is required");
  if (!DNS_LABEL.test(namespace))
    throw new UsageError(`--namespace ${JSON.stringify(namespace)} is not a namespace name`);
  if (secret !== undefined && !DNS_SUBDOMAIN.test(secret)) {
    throw new UsageError(`--secret ${JSON.stringify(secret)} is not a Secret name`);
  }
  if (output !== "text" && output !== "json") {
    throw new UsageError(`-o ${JSON.stringify(output)}: expected text or json`);
  }
  return { namespace, secret, output, kubeconfig: kubeconfig || undefined };
}

/** Runs the command; resolves to the exit code once the output is written: 0, 1 (cluster) or 2 (usage). */
export async function explainCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseExplainArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    await write(process.stderr, `${err.message}\n\n${EXPLAIN_USAGE}\n`);
    return 2;
  }
  if (args === "help") {
    await write(process.stdout, `${EXPLAIN_USAGE}\n`);
    return 0;
  }
  try {
    const kubeConfig = new KubeConfig();
    if (args.kubeconfig) kubeConfig.loadFromFile(args.kubeconfig);
    else kubeConfig.loadFromDefault();
    const http = kubeHttp(kubeConfig);
    const input = await readCluster(http, { namespace: args.namespace, secret: args.secret });
    const explanation = explain(input);
    const clusterPlaceholders = explainClusterPlaceholders(
      await readClusterPlaceholders(http, args.namespace),
    );
    const text =
      args.output === "json"
        ? `${JSON.stringify({ ...explanation, clusterPlaceholders }, null, 2)}\n`
        : renderText(explanation) + renderClusterPlaceholders(clusterPlaceholders, args.namespace);
    await write(process.stdout, text);
    return 0;
  } catch (err) {
    await write(process.stderr, `explain: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** Resolves once the text is handed to the OS, so that exiting right after loses none of it. */
function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}
