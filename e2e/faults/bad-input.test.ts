// Bad input, all of it while real work goes on: each gets a clear condition, nothing already filled
// is lost, and none turns into a retry storm (the controller is quiet once everything is reported).
// Sizes are the real API limits: a merged result over 1 MiB, 2,000 exports reaching one namespace,
// 63-character namespace names, 253-character export names, long and Unicode registry keys.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { after, before, describe, test } from "node:test";
import { ANNOTATION_STATUS, MESSAGE_TOO_LARGE, MESSAGE_WRONG_PLACEHOLDER_TYPE } from "../../src/constants.ts";
import type { KubeObject } from "../../src/runtime/kube-http.ts";
import { eventually, testNamespace } from "../support/cluster.ts";
import { type ControllerProcess, startControllerProcess } from "../support/controller-process.ts";
import {
  exportBody,
  exportsPath,
  importsPath,
  importValue,
  inParallel,
  mergePatch,
  placeholderBody,
  placeholderPoller,
  rawClient,
  secretsPath,
  settles,
  sleep,
  sourceBody,
  total,
  writes,
} from "../support/faults.ts";
import {
  type Auths,
  cred,
  createExport,
  createPlaceholder,
  createSource,
  deleteExport,
  expectAuths,
  readExport,
  readPlaceholder,
} from "../support/fixtures.ts";
import { usePrivateControlPlane } from "../support/private-plane.ts";

const plane = usePrivateControlPlane();

type Condition = { type: string; status: string; reason?: string; message?: string };
const readyOf = (o: { status?: Record<string, unknown> }) =>
  (o.status?.conditions as Condition[] | undefined)?.find((c) => c.type === "Ready");

describe("bad input", () => {
  let controller: ControllerProcess;
  const http = rawClient();

  before(async () => {
    controller = startControllerProcess(["--kubeconfig", plane().kubeconfigPath, "--leader-elect", "false"]);
    await controller.port();
  });
  after(() => controller.stop());

  /** Waits until the export's Ready condition has this reason; returns the export. */
  const exportReason = (namespace: string, name: string, reason: string, timeoutMs = 30_000) =>
    eventually(
      `export ${namespace}/${name} Ready reason ${reason}`,
      async () => {
        const read = await readExport(namespace, name);
        return readyOf(read)?.reason === reason ? read : undefined;
      },
      timeoutMs,
    );

  /** Bad input is reported once, not retried: the controller soon stops writing. */
  const quiet = () => settles(() => controller.metrics());

  test("every kind of bad input at once next to a filled placeholder: each reported, nothing lost, no retry storm", async (t) => {
    const src = await testNamespace(t, "src");
    const app = await testNamespace(t, "app", { labels: { tier: "gold" } });
    const good = { "good.example.com": cred("good", "pw") };
    const shape = { "shape.example.com": cred("shape", "pw") };
    await createSource(src, "good", good);
    await createExport(t, src, "good", { toNamespace: app });
    await createSource(src, "shape", shape);
    await createExport(t, src, "shape", { toNamespace: app });
    await http.request(secretsPath(app), { method: "POST", body: placeholderBody("pull", { watched: app }) });
    await expectAuths(app, { ...good, ...shape });
    const poller = placeholderPoller(t, http, `watched=${app}`);
    const metricsBefore = await controller.metrics();

    // dockerconfigjson that is valid JSON of the wrong shape
    await mergePatch(http, `${secretsPath(src)}/shape`, {
      stringData: {
        ".dockerconfigjson": JSON.stringify({ auths: { "shape.example.com": "not-an-object" } }),
      },
    });
    // entries without any credential next to one with
    await createSource(src, "empty", {
      "empty.example.com": {},
      "blank.example.com": { username: "", password: "", auth: "" },
      "kept.example.com": cred("kept", "pw"),
    });
    await createExport(t, src, "empty", { toNamespace: app });
    // an export whose Secret does not exist
    await createExport(t, src, "ghost", { toNamespace: app });
    // specs the schema lets through, each of which a lenient reading would take to reach app
    const invalid: [string, Record<string, unknown>, string][] = [
      ["glob", { toNamespaces: [`${app}[`] }, "spec.toNamespaces[0]"],
      [
        "labels",
        { toNamespaceSelector: { matchLabels: { tier: "gold", "bad key!": "x" } } },
        "spec.toNamespaceSelector.matchLabels[bad key!]",
      ],
      [
        "jsonpath",
        { dangerousToNamespacesSelector: [{ key: "metadata.labels[", operator: "Exists" }] },
        "spec.dangerousToNamespacesSelector[0].key",
      ],
      [
        "values",
        { dangerousToNamespacesSelector: [{ key: "metadata.labels.tier", operator: "In" }] },
        "spec.dangerousToNamespacesSelector[0].values",
      ],
    ];
    for (const [name, spec] of invalid) {
      await createSource(src, name, { [`${name}.example.com`]: cred(name, "pw") });
      await createExport(t, src, name, spec);
    }
    // a placeholder of the wrong type
    await http.request(secretsPath(app), {
      method: "POST",
      body: {
        metadata: { name: "opaque-pull", annotations: { "secretgen.carvel.dev/image-pull-secret": "" } },
        stringData: { keep: "me" },
      },
    });
    // a SecretImport whose name is taken by a Secret it does not own
    const unowned = await http.request<KubeObject>(secretsPath(app), {
      method: "POST",
      body: { metadata: { name: "token" }, stringData: { mine: "keep" } },
    });
    await importValue(http, src, app, "token", "x");

    // Each gets its condition.
    const shapeReady = readyOf(await exportReason(src, "shape", "InvalidDockerConfig"));
    assert.match(shapeReady?.message ?? "", /auths\["shape\.example\.com"\] must be an object/);
    assert.match(
      readyOf(await exportReason(src, "empty", "Exported"))?.message ?? "",
      /entries without credentials skipped: .*blank\.example\.com/,
    );
    assert.equal(
      readyOf(await exportReason(src, "ghost", "SecretNotFound"))?.message,
      "Missing exported secret",
    );
    for (const [name, , field] of invalid) {
      const read = await exportReason(src, name, "InvalidSpec");
      assert.ok(readyOf(read)?.message?.includes(`- ${field}: `), `${name}: ${readyOf(read)?.message}`);
      assert.equal(read.status?.namespacesReached, 0);
    }
    const wrongType = await eventually("the wrong-type placeholder is reported", async () => {
      const s = await http.request<KubeObject>(`${secretsPath(app)}/opaque-pull`);
      const status = (s.metadata as { annotations?: Record<string, string> }).annotations?.[
        ANNOTATION_STATUS
      ];
      return status?.includes(MESSAGE_WRONG_PLACEHOLDER_TYPE) ? s : undefined;
    });
    assert.deepEqual(wrongType.data, { keep: Buffer.from("me").toString("base64") }, "its data is untouched");
    const imported = await eventually("the import reports SecretExists", async () => {
      const read = await http.request<{ status?: Record<string, unknown> }>(`${importsPath(app)}/token`);
      return readyOf(read)?.reason === "SecretExists" ? read : undefined;
    });
    assert.ok(imported);
    const stillUnowned = await http.request<KubeObject>(`${secretsPath(app)}/token`);
    assert.equal(
      stillUnowned.metadata?.resourceVersion,
      unowned.metadata?.resourceVersion,
      "the unowned Secret is untouched",
    );

    // The placeholder kept what it had and took what is good, and says what is wrong.
    const filled = await expectAuths(app, { ...good, ...shape, "kept.example.com": cred("kept", "pw") });
    const condition = (filled.status?.conditions as Condition[])[0];
    assert.equal(condition?.type, "ReconcileFailed");
    assert.match(condition?.message ?? "", new RegExp(`Exported secret ${src}/shape has an invalid`));

    const calm = await quiet();
    const metricsAfter = await controller.metrics();
    t.diagnostic(
      JSON.stringify({
        writes: writes(metricsAfter) - writes(metricsBefore),
        reconcileErrors:
          total(metricsAfter, "controller_runtime_reconcile_errors_total") -
          total(metricsBefore, "controller_runtime_reconcile_errors_total"),
        quiet: calm,
      }),
    );
    assert.deepEqual((await poller.stop()).violations, [], "the placeholder never lost an entry");

    // Fixed input is taken up.
    await mergePatch(http, `${secretsPath(src)}/shape`, {
      stringData: {
        ".dockerconfigjson": JSON.stringify({ auths: { "shape.example.com": cred("shape", "new") } }),
      },
    });
    await createSource(src, "ghost", { "ghost.example.com": cred("ghost", "pw") });
    const fixed = await expectAuths(app, {
      ...good,
      "shape.example.com": cred("shape", "new"),
      "kept.example.com": cred("kept", "pw"),
      "ghost.example.com": cred("ghost", "pw"),
    });
    assert.equal((fixed.status?.conditions as Condition[])[0]?.type, "ReconcileSucceeded");
  });

  test("a merged result over the 1 MiB Secret limit: the placeholder keeps its data, reports the limit, and is filled once it fits", async (t) => {
    const src = await testNamespace(t, "big-src");
    const app = await testNamespace(t, "big-app");
    // Twelve registries of ~100 KB each: ten fit in a Secret, twelve do not.
    const entry = (i: number): Auths => ({
      [`big-${i}.example.com`]: { username: `u${i}`, password: randomBytes(75_000).toString("base64") },
    });
    const all = Array.from({ length: 12 }, (_, i) => entry(i));
    for (const [i, auths] of all.slice(0, 5).entries()) {
      await createSource(src, `big-${i}`, auths);
      await createExport(t, src, `big-${i}`, { toNamespace: app });
    }
    await createPlaceholder(app);
    const first = Object.assign({}, ...all.slice(0, 5)) as Auths;
    await expectAuths(app, first, "pull", 30_000);

    for (const [i, auths] of all.entries()) {
      if (i < 5) continue;
      await createSource(src, `big-${i}`, auths);
      await createExport(t, src, `big-${i}`, { toNamespace: app });
    }
    const failed = await eventually(
      "the placeholder reports the size limit",
      async () => {
        const read = await readPlaceholder(app);
        const condition = (read.status?.conditions as Condition[] | undefined)?.[0];
        return condition?.message === MESSAGE_TOO_LARGE ? read : undefined;
      },
      60_000,
    );
    const kept = Object.keys(failed.auths ?? {});
    for (const registry of Object.keys(first)) assert.ok(kept.includes(registry), `${registry} is kept`);
    assert.ok(Buffer.byteLength(Buffer.from(failed.data[".dockerconfigjson"] ?? "", "base64")) <= 1_048_576);
    t.diagnostic(JSON.stringify(await quiet()));

    for (const i of [9, 10, 11]) await deleteExport(src, `big-${i}`);
    const nine = Object.assign({}, ...all.slice(0, 9)) as Auths;
    await expectAuths(app, nine, "pull", 60_000);
    // The three exports go one by one; the status that goes with the last write is the one judged.
    const fits = await eventually("the placeholder reports success once it fits", async () => {
      const read = await readPlaceholder(app);
      return (read.status?.conditions as Condition[] | undefined)?.[0]?.type === "ReconcileSucceeded"
        ? read
        : undefined;
    });
    assert.deepEqual(fits.auths, nine);
  });

  test("a namespace deleted while its 50 placeholders are being filled: no crash, no retry storm, work goes on", async (t) => {
    const src = await testNamespace(t, "doom-src");
    const doomed = await testNamespace(t, "doomed");
    const later = await testNamespace(t, "later");
    await inParallel(
      Array.from({ length: 50 }, (_, i) => `pull-${i}`),
      8,
      (name) => http.request(secretsPath(doomed), { method: "POST", body: placeholderBody(name) }),
    );
    await createSource(src, "creds", { "doom.example.com": cred("u", "p") });
    const before = await controller.metrics();
    await createExport(t, src, "creds", { toNamespaces: [doomed, later] });
    await sleep(100);
    await http.request(`/api/v1/namespaces/${doomed}`, { method: "DELETE" });
    await eventually(
      `${doomed} is gone`,
      async () =>
        (await http.request(`/api/v1/namespaces/${doomed}`).then(
          () => false,
          () => true,
        ))
          ? true
          : undefined,
      60_000,
    );
    await createPlaceholder(later);
    await expectAuths(later, { "doom.example.com": cred("u", "p") });
    await eventually("the export reaches only the namespace left", async () =>
      (await readExport(src, "creds")).status?.namespacesReached === 1 ? true : undefined,
    );
    const calm = await quiet();
    const after = await controller.metrics();
    const errors =
      total(after, "controller_runtime_reconcile_errors_total") -
      total(before, "controller_runtime_reconcile_errors_total");
    t.diagnostic(
      JSON.stringify({ reconcileErrors: errors, writes: writes(after) - writes(before), quiet: calm }),
    );
    assert.equal(controller.child.exitCode, null, "the controller kept running");
    assert.ok(errors <= 50, `${errors} failed reconciles for 50 placeholders in a namespace being deleted`);
  });

  test("2,000 exports reaching one namespace fill one placeholder; 200 more push its status over the annotation limit: it keeps its data and says so", async (t) => {
    const src = await testNamespace(t, "many-src");
    const app = await testNamespace(t, "many-app");
    await createPlaceholder(app);
    /** Exports of one registry each, created 16 at a time. */
    const exportAll = (names: string[], registry: (i: number) => string) =>
      inParallel(names, 16, async (name, i) => {
        const auths = { [registry(i)]: cred(`u${i}`, `p${i}`) };
        await http.request(secretsPath(src), { method: "POST", body: sourceBody(name, auths) });
        await http.request(exportsPath(src), {
          method: "POST",
          body: exportBody(name, { toNamespace: app }),
        });
      });
    const numbered = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, "0")}`);
    const team = (i: number) => `registry-${String(i).padStart(4, "0")}.team.example.com`;
    const before = await controller.metrics();
    const started = Date.now();
    await exportAll(numbered("registry-credentials", 2_000), team);
    const createdAt = Date.now();
    const expected = Object.fromEntries(
      Array.from({ length: 2_000 }, (_, i) => [team(i), cred(`u${i}`, `p${i}`)]),
    );
    const filled = await expectAuths(app, expected, "pull", 180_000);
    const filledAt = Date.now();
    await eventually(
      "all 2,000 exports are Exported",
      async () => {
        const list = await http.request<{ items: { status?: Record<string, unknown> }[] }>(exportsPath(src));
        return list.items.filter((e) => readyOf(e)?.reason === "Exported").length === 2_000
          ? true
          : undefined;
      },
      180_000,
    );
    const exportedAt = Date.now();
    const after = await controller.metrics();
    const statusBytes = (read: { status?: unknown }) => Buffer.byteLength(JSON.stringify(read.status));
    t.diagnostic(
      JSON.stringify({
        createMs: createdAt - started,
        filledAfterCreateMs: filledAt - createdAt,
        allExportedAfterCreateMs: exportedAt - createdAt,
        writes: writes(after) - writes(before),
        placeholderAndStatusPatches:
          total(after, "rest_client_requests_total", { method: "PATCH" }) -
          total(before, "rest_client_requests_total", { method: "PATCH" }),
        statusBytes: statusBytes(filled),
      }),
    );
    assert.equal((filled.status?.conditions as Condition[])[0]?.type, "ReconcileSucceeded");
    assert.equal((filled.status?.secretNames as string[]).length, 2_000);

    // Registry hosts as long as ECR's: the data still fits in 1 MiB, the status annotation (the
    // export of every registry) would not fit in the 256 KiB Kubernetes allows for annotations.
    const ecr = (i: number) => `${String(i).padStart(12, "0")}.dkr.ecr.eu-west-1.amazonaws.com`;
    const more = numbered("ecr-credentials", 200);
    await exportAll(more, ecr);
    const limited = await eventually(
      "the placeholder reports the annotation limit",
      async () => {
        const read = await readPlaceholder(app);
        const condition = (read.status?.conditions as Condition[] | undefined)?.[0];
        return condition?.message?.includes("annotation") ? read : undefined;
      },
      120_000,
    );
    // It may have taken in a few of the new registries while its status still fitted.
    const lost = Object.keys(expected).filter((r) => !isDeepStrictEqual(limited.auths?.[r], expected[r]));
    assert.deepEqual(lost, [], "the placeholder keeps its data");
    t.diagnostic(JSON.stringify(await quiet()));
    await inParallel(more, 16, (name) => deleteExport(src, name));
    const back = await expectAuths(app, expected, "pull", 120_000);
    await eventually("the placeholder succeeds again", async () => {
      const condition = ((await readPlaceholder(app)).status?.conditions as Condition[] | undefined)?.[0];
      return condition?.type === "ReconcileSucceeded" ? true : undefined;
    });
    assert.ok(back);
  });

  test("63-character namespace names, a 253-character export name, long and Unicode registry keys", async (t) => {
    const src = await testNamespace(t, "s".repeat(54));
    const app = await testNamespace(t, "a".repeat(54));
    assert.equal(app.length, 63);
    const exportName = `${"long-export-name.".repeat(14)}${"x".repeat(253 - 17 * 14)}`;
    assert.equal(exportName.length, 253);
    const longKey = `registry.example.com/${"team/".repeat(200)}image`;
    const auths: Auths = {
      "régistre.例え.jp/チーム": cred("ユーザー", "пароль"),
      "REGISTRY.Example.COM:5000/Ünïcode": cred("u", "p"),
      [longKey]: cred("long", "pw"),
    };
    await createSource(src, exportName, auths);
    await createExport(t, src, exportName, { toNamespaces: [app] });
    await createPlaceholder(app);
    const filled = await expectAuths(app, auths, "pull", 30_000);
    assert.deepEqual(filled.status?.secretNames, [`${src}/${exportName}`]);
    assert.equal((filled.status?.sources as Record<string, string>)[longKey], `${src}/${exportName}`);
    const exported = await exportReason(src, exportName, "Exported");
    assert.equal(exported.status?.namespacesReached, 1);
  });
});
