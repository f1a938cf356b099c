import assert from "node:assert/strict";
import { test } from "node:test";
import { explain } from "../../src/explain/explain.ts";
import { renderText, wrap, wrapCommand } from "../../src/explain/render.ts";
import {
  type Cluster,
  cred,
  docker,
  exp,
  imp,
  input,
  MARK,
  ns,
  placeholder,
  reconciled,
  secret,
} from "./fixtures.ts";

/** A namespace with one of everything explain reports. */
function busy(): Cluster {
  const filled = reconciled({
    namespaces: [ns("app", { labels: { team: "a", env: "prod" }, excluded: true })],
    exports: [exp("ops/exact", { toNamespace: "app" })],
    secrets: [
      docker("ops/exact", { "docker.io": cred("a"), "quay.io": cred("q1") }),
      docker("platform-credentials/a-rather-long-export-name", { "quay.io": cred("q2") }),
      docker("ops/labels", {
        "https://index.docker.io/v1/": cred("b"),
        "ghcr.io": cred("g"),
        "empty.io": {},
      }),
      secret("ops/opaque", "Opaque", { token: `t-${MARK}` }),
      placeholder("app/pull"),
      placeholder("app/legacy", "Opaque"),
    ],
  });
  return {
    ...filled,
    exports: [
      exp("ops/exact", { toNamespace: "app" }),
      exp("platform-credentials/a-rather-long-export-name", { toNamespace: "app" }),
      exp("ops/glob", { toNamespaces: ["app*"] }),
      exp("ops/labels", { toNamespaceSelector: { matchLabels: { team: "a" } } }, "2"),
      exp("ops/broken", { toNamespaces: ["[a"] }),
      exp("ops/other", { toNamespace: "elsewhere" }),
      exp("ops/opaque", { toNamespace: "app" }),
      exp("ops/missing", { toNamespace: "app" }),
    ],
    imports: [imp("app/opaque", "ops"), imp("app/other", "ops")],
  };
}

test("the text of a small namespace, in full", () => {
  const cluster = reconciled({
    exports: [exp("ops/creds", { toNamespace: "app" }), exp("ops/team", { toNamespace: "team-*" })],
    secrets: [docker("ops/creds", { "docker.io": cred("a") }), placeholder("app/pull")],
    imports: [imp("app/db", "ops")],
  });
  assert.equal(
    renderText(explain(input(cluster))),
    `Namespace app
  labels: none

Exports reaching app (1 of 2):
  ops/creds
    by exact name: listed in spec.toNamespace
    source: registries docker.io

Exports not reaching app (1):
  ops/team
    no toNamespace/toNamespaces entry or selector matches it

Placeholder app/pull: in sync
  candidates, least to most preferred: ops/creds
  registries:
    docker.io from ops/creds (the only offer)
  status: ReconcileSucceeded

Import app/db from ops: NOT satisfied (NoMatchingExport)
  there is no SecretExport ops/db
  copy: none
`,
  );
});

test("a busy namespace reads well and fits in 80 columns", () => {
  const text = renderText(explain(input(busy())));
  for (const line of text.split("\n")) assert.ok(line.length <= 80, `too long: ${JSON.stringify(line)}`);
  for (const expected of [
    "  excluded from wildcard matching: globs do not reach it",
    "    by label selector: matches spec.toNamespaceSelector team=a",
    "    source: the Secret does not exist: it offers nothing",
    '    excluded from wildcard matching: spec.toNamespaces[0] "app*" matches its',
    '      - spec.toNamespaces[0]: "[a" is not a valid glob: "[" without "]"',
    "Placeholder app/pull: will be rewritten (data and status)",
    "    https://index.docker.io/v1/ from ops/labels (highest weight among 2 offers)",
    "  CONFLICT on quay.io: different credentials from ops/exact,",
    "    the placeholder keeps its current entry quay.io from ops/exact",
    "      kubectl annotate secretexport -n ops exact secretgen.carvel.dev/weight=1 \\",
    "  skipped, without credentials: empty.io from ops/labels",
    "Placeholder app/legacy: will be rewritten (status)",
    "  problem: Expected secret to have type=corev1.SecretTypeDockerConfigJson, but",
    "Import app/opaque from ops: satisfied (Imported)",
    "  copy: will be created",
  ]) {
    assert.ok(text.includes(`${expected}\n`), `missing ${JSON.stringify(expected)} in\n${text}`);
  }
  assert.ok(!text.includes(MARK));
});

test("any width is honoured", async (t) => {
  for (const width of [40, 60, 100]) {
    await t.test(`${width} columns`, () => {
      const text = renderText(explain(input(busy())), width);
      for (const line of text.split("\n"))
        assert.ok(line.length <= width, `too long: ${JSON.stringify(line)}`);
    });
  }
});

test("an explanation without placeholders or imports says so; with --secret it stays quiet", () => {
  const cluster: Cluster = { exports: [] };
  const text = renderText(explain(input(cluster)));
  assert.match(text, /No export reaches app \(0 exports in the cluster\)\./);
  assert.match(text, /No placeholder in app\./);
  assert.match(text, /No SecretImport in app\./);
  const one = renderText(explain(input({ ...cluster, secret: "x" })));
  assert.doesNotMatch(one, /No placeholder/);
  assert.match(one, /note: app\/x is neither a placeholder/);
});

test("wrap breaks at spaces, indents continuation lines and cuts words longer than a line", () => {
  const rows: [text: string, width: number, indent: number, hanging: number, lines: string[]][] = [
    ["short", 10, 0, 0, ["short"]],
    ["", 10, 2, 2, [""]],
    ["one two three", 7, 0, 2, ["one two", "  three"]],
    ["one two three", 9, 2, 4, ["  one two", "    three"]],
    ["abcdefghijkl", 5, 0, 0, ["abcde", "fghij", "kl"]],
    ["x abcdefghijkl", 6, 0, 2, ["x", "  abcd", "  efgh", "  ijkl"]],
    ["a  b", 10, 0, 0, ["a b"]],
    ["first\nsecond line", 8, 0, 2, ["first", "  second", "  line"]],
  ];
  for (const [text, width, indent, hanging, lines] of rows) {
    assert.deepEqual(wrap(text, width, indent, hanging), lines, JSON.stringify(text));
  }
});

test("wrapCommand continues long commands with a backslash", () => {
  const command = "kubectl annotate secretexport -n platform creds secretgen.carvel.dev/weight=1 --overwrite";
  const lines = wrapCommand(command, 50, 4);
  assert.ok(lines.length > 1);
  for (const line of lines) assert.ok(line.length <= 50, line);
  assert.ok(lines.slice(0, -1).every((line) => line.endsWith(" \\")));
  assert.equal(lines.map((l) => l.replace(/ \\$/, "").trim()).join(" "), command);
  assert.deepEqual(wrapCommand("ls -l", 50, 2), ["  ls -l"]);
});

test("a source a RegistryCredential keeps fresh says so, and when its credential expires", () => {
  const cluster = reconciled({
    exports: [exp("ops/ecr", { toNamespace: "app" })],
    secrets: [
      docker(
        "ops/ecr",
        { "1.dkr.ecr.eu-west-1.amazonaws.com": cred("a") },
        {
          "secret-export.dev/refreshed-at": "2026-12-02T00:00:00Z",
          "secret-export.dev/expires-at": "2026-12-02T12:00:00Z",
        },
      ),
      placeholder("app/pull"),
    ],
  });
  assert.match(
    renderText(explain(input(cluster))).replace(/\s+/g, " "),
    /source: registries 1\.dkr\.ecr\.eu-west-1\.amazonaws\.com; kept fresh by RegistryCredential ops\/ecr, expires 2026-12-02T12:00:00Z/,
  );
});
