// `npm run bench:providers`: the resident memory each RegistryCredential provider costs when its
// module is first imported, each measured in a fresh Node process (so one's modules do not count
// for another) after the controller's modules, as the lowest RSS over a quiet half second before
// and after the import.
import { execFileSync } from "node:child_process";

// ecr, gcp and acr call their clouds with Node's built-in fetch, whose implementation loads on the
// first call, once for all of them: the (fetch) row is that part alone.
const PROVIDERS: Record<string, { module: string; use?: string }> = {
  "(fetch)": { module: "../src/credentials/provider.ts", use: 'await fetch("data:,");' },
  basicAuth: { module: "../src/credentials/providers/basic-auth.ts" },
  ecr: { module: "../src/credentials/providers/ecr.ts", use: 'await fetch("data:,");' },
  exec: { module: "../src/credentials/providers/exec.ts" },
  gcp: { module: "../src/credentials/providers/gcp.ts", use: 'await fetch("data:,");' },
  acr: { module: "../src/credentials/providers/acr.ts", use: 'await fetch("data:,");' },
};

// What it adds to a running controller: the controller's own modules (and with them Node's type
// stripping, node:crypto, undici) are imported first and not counted.
const probe = (module: string, use = "") => `
await import(${JSON.stringify(new URL("../src/controller/controller.ts", import.meta.url).href)});
const quietRss = async () => { let low = Infinity; for (let i = 0; i < 10; i++) { globalThis.gc?.(); low = Math.min(low, process.memoryUsage().rss); await new Promise((r) => setTimeout(r, 50)); } return low; };
const before = await quietRss();
await import(${JSON.stringify(new URL(module, import.meta.url).href)});
${use}
const after = await quietRss();
console.log(JSON.stringify({ before, after }));
`;

for (const [name, { module, use }] of Object.entries(PROVIDERS)) {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", "--input-type=module", "-e", probe(module, use)],
    {
      encoding: "utf8",
    },
  );
  const { before, after } = JSON.parse(out) as { before: number; after: number };
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(`${name.padEnd(10)} RSS ${mb(before)} MB -> ${mb(after)} MB: +${mb(after - before)} MB`);
}
