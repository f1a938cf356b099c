import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDockerConfig } from "../../src/core/dockerconfig.ts";
import {
  compareCandidates,
  desiredPlaceholder,
  exceedsAnnotationLimit,
  exceedsSecretDataLimit,
  parsePlaceholderStatus,
  WRONG_TYPE_STATUS,
} from "../../src/core/placeholder.ts";
import type { Candidate, PlaceholderResult } from "../../src/core/placeholder.ts";

const A = { username: "a", password: "pass-a" };
const B = { username: "b", password: "pass-b" };
const C = { username: "c", password: "pass-c" };
const SUCCEEDED = '{"conditions":[{"type":"ReconcileSucceeded","status":"True"}]';

function candidate(exportKey: string, auths: object, options: Partial<Candidate> = {}): Candidate {
  const source = parseDockerConfig(JSON.stringify({ auths }));
  return { exportKey, weight: 0, sameNamespace: false, exact: false, source, ...options };
}

function unreadable(exportKey: string, options: Partial<Candidate> = {}): Candidate {
  return {
    ...candidate(exportKey, {}, options),
    source: parseDockerConfig('{"auths":{"r":{"password":7}}}'),
  };
}

/** A reconcile of a placeholder that has never been filled. */
function fill(candidates: Candidate[]): PlaceholderResult {
  return desiredPlaceholder({ candidates, currentConfig: undefined, currentStatus: undefined });
}

/** The next reconcile, of a placeholder that holds what the previous one wrote. */
function refill(previous: PlaceholderResult, candidates: Candidate[]): PlaceholderResult {
  return desiredPlaceholder({
    candidates,
    currentConfig: previous.dockerConfigJson,
    currentStatus: previous.status,
  });
}

function auths(result: PlaceholderResult): unknown {
  return JSON.parse(result.dockerConfigJson).auths;
}

function condition(result: PlaceholderResult): { type: string; message?: string } {
  return JSON.parse(result.status).conditions[0];
}

test("compareCandidates orders exports as carvel does, least preferred first", async (t) => {
  const canonical = [
    candidate("a/w-neg", {}, { weight: -1 }),
    candidate("A/upper", {}),
    candidate("a/w-bad", {}),
    candidate("z/plain-wild", {}),
    candidate("b/plain-exact", {}, { exact: true }),
    candidate("dst/same-wild", {}, { sameNamespace: true }),
    candidate("dst/same-wild-2", {}, { sameNamespace: true }),
    candidate("dst/same-exact", {}, { sameNamespace: true, exact: true }),
    candidate("a/w-05", {}, { weight: 0.5 }),
    candidate("a/w-1e1", {}, { weight: 10 }),
  ];
  const orders = {
    reversed: [...canonical].reverse(),
    "by key": [...canonical].sort((a, b) => (a.exportKey < b.exportKey ? -1 : 1)),
    interleaved: [...canonical.filter((_, i) => i % 2 === 1), ...canonical.filter((_, i) => i % 2 === 0)],
  };
  for (const [name, input] of Object.entries(orders)) {
    await t.test(name, () => {
      const sorted = [...input].sort(compareCandidates).map((c) => c.exportKey);
      assert.deepEqual(
        sorted,
        canonical.map((c) => c.exportKey),
      );
    });
  }
});

test("a placeholder with no candidates holds an empty auths object", () => {
  const result = fill([]);
  assert.equal(result.dockerConfigJson, '{"auths":{}}');
  assert.equal(result.status, `${SUCCEEDED}}`);
  assert.deepEqual(
    [result.conflicts, result.unreadable, result.skipped, result.sources.size],
    [[], [], [], 0],
  );
});

test("registries of several exports are merged, with secretNames and sources in the status", () => {
  const result = fill([
    candidate("tools/pull", { "quay.io": C }),
    candidate("platform/hub", { "docker.io": A, "ghcr.io": B }),
  ]);
  assert.equal(
    result.dockerConfigJson,
    '{"auths":{"docker.io":{"username":"a","password":"pass-a"},"ghcr.io":{"username":"b","password":"pass-b"},' +
      '"quay.io":{"username":"c","password":"pass-c"}}}',
  );
  assert.equal(
    result.status,
    `${SUCCEEDED},"secretNames":["platform/hub","tools/pull"],` +
      '"sources":{"docker.io":"platform/hub","ghcr.io":"platform/hub","quay.io":"tools/pull"}}',
  );
});

test("secretNames lists every candidate, even one that contributes nothing", () => {
  const result = fill([candidate("b/empty", {}), candidate("a/one", { r: A }), unreadable("c/bad")]);
  assert.deepEqual(JSON.parse(result.status).secretNames, ["a/one", "b/empty", "c/bad"]);
});

test("identical credentials under different spellings are one registry, written as the preferred export spells it", () => {
  const result = fill([
    candidate("a/hub", { "https://index.docker.io/v1/": A }, { exact: true }),
    candidate("b/hub", { "docker.io": A }),
  ]);
  assert.deepEqual(auths(result), { "https://index.docker.io/v1/": A });
  assert.deepEqual([...result.sources], [["https://index.docker.io/v1/", "a/hub"]]);
  assert.deepEqual(result.conflicts, []);
});

test("the strictly highest weight resolves differing credentials", async (t) => {
  const cases: { name: string; candidates: Candidate[]; expected: object }[] = [
    {
      name: "higher weight wins over key order",
      candidates: [
        candidate("a/x", { "docker.io": A }, { weight: 1 }),
        candidate("b/y", { "index.docker.io": B }),
      ],
      expected: { "docker.io": A },
    },
    {
      name: "negative weights",
      candidates: [candidate("a/x", { r: A }, { weight: -2 }), candidate("b/y", { r: B }, { weight: -1 })],
      expected: { r: B },
    },
    {
      name: "a tie below the highest weight does not matter",
      candidates: [
        candidate("a/x", { r: A }),
        candidate("b/y", { r: B }),
        candidate("c/z", { r: C }, { weight: 2 }),
      ],
      expected: { r: C },
    },
    {
      name: "identical credentials sharing the highest weight",
      candidates: [
        candidate("a/x", { r: A }),
        candidate("b/y", { r: B }, { weight: 3 }),
        candidate("c/z", { "https://r/": B }, { weight: 3 }),
      ],
      expected: { "https://r/": B },
    },
  ];
  for (const { name, candidates, expected } of cases) {
    await t.test(name, () => {
      const result = fill(candidates);
      assert.deepEqual(auths(result), expected);
      assert.deepEqual(result.conflicts, []);
      assert.equal(condition(result).type, "ReconcileSucceeded");
    });
  }
});

test("differing credentials without a single highest weight are a conflict and the registry is left out", async (t) => {
  const cases: { name: string; candidates: Candidate[]; exports: string[] }[] = [
    {
      name: "equal weights",
      candidates: [candidate("b/y", { r: B }), candidate("a/x", { R: A })],
      exports: ["a/x", "b/y"],
    },
    {
      name: "namespace and exact name do not resolve it",
      candidates: [
        candidate("a/x", { r: A }),
        candidate("n/y", { r: B }, { sameNamespace: true, exact: true }),
      ],
      exports: ["a/x", "n/y"],
    },
    {
      name: "only the exports at the highest weight are involved",
      candidates: [
        candidate("a/x", { r: A }),
        candidate("b/y", { r: B }, { weight: 1 }),
        candidate("c/z", { r: C }, { weight: 1 }),
      ],
      exports: ["b/y", "c/z"],
    },
    {
      name: "an entry that differs only in an extra field",
      candidates: [candidate("a/x", { r: A }), candidate("b/y", { r: { ...A, email: "e" } })],
      exports: ["a/x", "b/y"],
    },
  ];
  for (const { name, candidates, exports } of cases) {
    await t.test(name, () => {
      const result = fill([...candidates, candidate("q/other", { "quay.io": C })]);
      assert.deepEqual(auths(result), { "quay.io": C });
      assert.deepEqual(result.conflicts, [{ registry: "r", exports }]);
    });
  }
});

test("a conflict sets ReconcileFailed naming the registry, the exports and the weight annotation", () => {
  const result = fill([candidate("b/y", { "docker.io": B }), candidate("a/x", { "index.docker.io": A })]);
  assert.equal(
    result.status,
    '{"conditions":[{"type":"ReconcileFailed","status":"True","message":"Conflicting credentials for registry ' +
      '\\"docker.io\\" from exports a/x, b/y (set the secretgen.carvel.dev/weight annotation on the export that ' +
      'should win)"}],"secretNames":["a/x","b/y"],"conflicts":[{"registry":"docker.io","exports":["a/x","b/y"]}]}',
  );
});

test("one export offering differing credentials under two spellings of a registry is a conflict", () => {
  const result = fill([candidate("a/x", { "docker.io": A, "https://index.docker.io/v1/": B, "quay.io": C })]);
  assert.deepEqual(auths(result), { "quay.io": C });
  assert.deepEqual(result.conflicts, [{ registry: "docker.io", exports: ["a/x"] }]);
  assert.match(condition(result).message ?? "", /under several keys of export a\/x/);
});

test("a placeholder keeps its docker.io entry when a second export offers different docker.io credentials", () => {
  const before = fill([candidate("a/x", { "docker.io": { ...A, email: "e" } })]);
  const after = refill(before, [
    candidate("a/x", { "docker.io": { ...A, email: "e" } }),
    candidate("b/y", { "index.docker.io": B }),
  ]);
  assert.equal(after.dockerConfigJson, before.dockerConfigJson);
  assert.deepEqual([...after.sources], [["docker.io", "a/x"]]);
  assert.deepEqual(after.conflicts, [{ registry: "docker.io", exports: ["a/x", "b/y"] }]);
  assert.equal(condition(after).type, "ReconcileFailed");
  assert.deepEqual(
    refill(after, [
      candidate("b/y", { "index.docker.io": B }),
      candidate("a/x", { "docker.io": { ...A, email: "e" } }),
    ]),
    after,
  );
});

test("a kept entry disappears once its export no longer reaches the namespace", () => {
  const a = candidate("a/x", { "docker.io": A, "quay.io": C });
  const [b, c] = [candidate("b/y", { "docker.io": B }), candidate("c/z", { "docker.io": C })];
  const kept = refill(fill([a]), [a, b, c]);
  assert.deepEqual(auths(kept), { "docker.io": A, "quay.io": C });
  const withdrawn = refill(kept, [b, c]);
  assert.deepEqual(auths(withdrawn), {});
  assert.deepEqual(withdrawn.conflicts, [{ registry: "docker.io", exports: ["b/y", "c/z"] }]);
});

test("a registry passes to the remaining export once the kept one's export is withdrawn", () => {
  const [a, b] = [candidate("a/x", { "docker.io": A }), candidate("b/y", { "docker.io": B })];
  const result = refill(refill(fill([a]), [a, b]), [b]);
  assert.deepEqual(auths(result), { "docker.io": B });
  assert.equal(result.status, `${SUCCEEDED},"secretNames":["b/y"],"sources":{"docker.io":"b/y"}}`);
});

test("during a conflict the providing export's rotated credentials replace the kept ones", () => {
  const b = candidate("b/y", { "docker.io": B });
  const kept = refill(fill([candidate("a/x", { "docker.io": A })]), [
    candidate("a/x", { "docker.io": A }),
    b,
  ]);
  const rotated = refill(kept, [candidate("a/x", { "docker.io": C }), b]);
  assert.deepEqual(auths(rotated), { "docker.io": C });
  assert.deepEqual([...rotated.sources], [["docker.io", "a/x"]]);
});

test("a conflicting registry is left out once its providing export stops offering it", () => {
  const [b, c] = [candidate("b/y", { "docker.io": B }), candidate("c/z", { "docker.io": C })];
  const kept = refill(fill([candidate("a/x", { "docker.io": A })]), [
    candidate("a/x", { "docker.io": A }),
    b,
    c,
  ]);
  const result = refill(kept, [candidate("a/x", { "quay.io": A }), b, c]);
  assert.deepEqual(auths(result), { "quay.io": A });
});

test("an unreadable source keeps the registries it provided while it reaches the namespace", () => {
  const before = fill([
    candidate("a/x", { "docker.io": A, "ghcr.io": B }),
    candidate("b/y", { "quay.io": C }),
  ]);
  const after = refill(before, [unreadable("a/x"), candidate("b/y", { "quay.io": C })]);
  assert.equal(after.dockerConfigJson, before.dockerConfigJson);
  assert.deepEqual(after.sources, before.sources);
  assert.deepEqual(after.unreadable, [
    { exportKey: "a/x", message: 'auths["r"].password must be a string, not a number' },
  ]);
  assert.equal(
    condition(after).message,
    'Exported secret a/x has an invalid .dockerconfigjson: auths["r"].password must be a string, not a number',
  );
  assert.deepEqual(refill(after, [candidate("b/y", { "quay.io": C }), unreadable("a/x")]), after);
});

test("an unreadable source's registries disappear once it no longer reaches the namespace", () => {
  const broken = refill(fill([candidate("a/x", { "docker.io": A }), candidate("b/y", { "quay.io": C })]), [
    unreadable("a/x"),
    candidate("b/y", { "quay.io": C }),
  ]);
  const result = refill(broken, [candidate("b/y", { "quay.io": C })]);
  assert.deepEqual(auths(result), { "quay.io": C });
  assert.equal(result.status, `${SUCCEEDED},"secretNames":["b/y"],"sources":{"quay.io":"b/y"}}`);
});

test("an unreadable source's kept entry still yields to a higher weight and conflicts at an equal one", async (t) => {
  const before = fill([candidate("a/x", { "docker.io": A })]);
  const cases: { name: string; other: Candidate; expected: object; conflicts: number }[] = [
    {
      name: "higher weight",
      other: candidate("b/y", { "docker.io": B }, { weight: 1 }),
      expected: { "docker.io": B },
      conflicts: 0,
    },
    {
      name: "equal weight",
      other: candidate("b/y", { "docker.io": B }),
      expected: { "docker.io": A },
      conflicts: 1,
    },
    {
      name: "same credentials",
      other: candidate("b/y", { "docker.io": A }),
      expected: { "docker.io": A },
      conflicts: 0,
    },
  ];
  for (const { name, other, expected, conflicts } of cases) {
    await t.test(name, () => {
      const result = refill(before, [unreadable("a/x"), other]);
      assert.deepEqual(auths(result), expected);
      assert.equal(result.conflicts.length, conflicts);
    });
  }
});

test("an unreadable source that never provided anything contributes nothing", () => {
  const result = fill([unreadable("a/x"), candidate("b/y", { "quay.io": C })]);
  assert.deepEqual(auths(result), { "quay.io": C });
  assert.equal(condition(result).type, "ReconcileFailed");
});

test("each registry records which offer is written and why", async (t) => {
  const kept = fill([candidate("a/x", { "docker.io": A })]);
  const rows: { name: string; result: PlaceholderResult; expected: [string, string, string][] }[] = [
    {
      name: "the only offer",
      result: fill([candidate("a/x", { "docker.io": A }), candidate("b/y", { "ghcr.io": B })]),
      expected: [
        ["docker.io", "a/x", "onlyOffer"],
        ["ghcr.io", "b/y", "onlyOffer"],
      ],
    },
    {
      name: "the same credentials from two exports: the most preferred",
      result: fill([
        candidate("a/x", { "docker.io": A }, { exact: true }),
        candidate("b/y", { "https://index.docker.io/v1/": A }),
      ]),
      expected: [["docker.io", "a/x", "identicalCredentials"]],
    },
    {
      name: "differing credentials: the strictly highest weight",
      result: fill([
        candidate("a/x", { "docker.io": A }),
        candidate("b/y", { "docker.io": B }, { weight: 1 }),
      ]),
      expected: [["docker.io", "b/y", "highestWeight"]],
    },
    {
      name: "a tie at the highest weight with the same credentials, a lower weight differing",
      result: fill([
        candidate("a/x", { "docker.io": A }, { weight: 1 }),
        candidate("b/y", { "docker.io": A }, { weight: 1 }),
        candidate("c/z", { "docker.io": B }),
      ]),
      expected: [["docker.io", "b/y", "highestWeight"]],
    },
    {
      name: "a conflict keeps the current entry",
      result: refill(kept, [candidate("a/x", { "docker.io": A }), candidate("b/y", { "docker.io": B })]),
      expected: [["docker.io", "a/x", "keptDuringConflict"]],
    },
    {
      name: "an unreadable source keeps its current entry",
      result: refill(kept, [unreadable("a/x")]),
      expected: [["docker.io", "a/x", "keptWhileSourceUnreadable"]],
    },
    {
      name: "a readable export offering the kept entry of an unreadable one, preferred",
      result: refill(kept, [unreadable("a/x"), candidate("b/y", { "docker.io": A }, { exact: true })]),
      expected: [["docker.io", "b/y", "identicalCredentials"]],
    },
  ];
  for (const { name, result, expected } of rows) {
    await t.test(name, () => {
      const written = result.registries.map(({ registry, written }) => [
        registry,
        written?.offer.exportKey,
        written?.choice,
      ]);
      assert.deepEqual(written, expected);
      assert.ok(result.registries.every((r) => r.conflict === undefined) === (result.conflicts.length === 0));
    });
  }

  await t.test("a conflict in a new placeholder writes nothing and names the tied exports", () => {
    const result = fill([
      candidate("a/x", { "docker.io": A }),
      candidate("b/y", { "index.docker.io": B }),
      candidate("c/z", { "docker.io": C }, { weight: -1 }),
    ]);
    const [docker] = result.registries;
    assert.equal(docker?.written, undefined);
    assert.deepEqual(docker?.conflict, { registry: "docker.io", exports: ["a/x", "b/y"] });
    assert.deepEqual(
      docker?.offers.map((o) => [o.exportKey, o.key]),
      [
        ["c/z", "docker.io"],
        ["a/x", "docker.io"],
        ["b/y", "index.docker.io"],
      ],
    );
  });

  await t.test("an entry kept from an unreadable source is offered, marked unreadable", () => {
    const result = refill(kept, [unreadable("a/x")]);
    assert.deepEqual(
      result.registries[0]?.offers.map((o) => [o.exportKey, o.key, o.readable]),
      [["a/x", "docker.io", false]],
    );
  });
});

test("a placeholder without a recorded provider keeps a conflicting entry that one export still offers", () => {
  const carvelWritten = '{"auths":{"docker.io":{"username":"b","password":"pass-b"}}}';
  const result = desiredPlaceholder({
    candidates: [candidate("a/x", { "docker.io": A }), candidate("b/y", { "docker.io": B })],
    currentConfig: carvelWritten,
    currentStatus: `${SUCCEEDED},"secretNames":["a/x","b/y"]}`,
  });
  assert.deepEqual(auths(result), { "docker.io": B });
  assert.deepEqual([...result.sources], [["docker.io", "b/y"]]);
  assert.equal(result.conflicts.length, 1);
});

test("a placeholder whose current content is garbage is filled afresh", async (t) => {
  const inputs: [string, string | undefined, string | undefined][] = [
    ["garbage data and status", "not json", "{{"],
    ["a status that is not an object", '{"auths":{"docker.io":{"auth":"a"}}}', '"docker.io"'],
    ["sources of the wrong shape", '{"auths":{"docker.io":{"auth":"a"}}}', '{"sources":{"docker.io":5}}'],
  ];
  const candidates = [
    candidate("a/x", { "docker.io": A }),
    candidate("b/y", { "docker.io": B }),
    candidate("c/z", { q: C }),
  ];
  for (const [name, currentConfig, currentStatus] of inputs) {
    await t.test(name, () => {
      const result = desiredPlaceholder({ candidates, currentConfig, currentStatus });
      assert.deepEqual(auths(result), { q: C });
    });
  }
});

test("entries without credentials are skipped and reported on their export", () => {
  const result = fill([
    candidate("b/y", { "harbor.internal": {}, "docker.io": A }),
    candidate("a/x", { "ghcr.io": { username: "", password: "" } }),
  ]);
  assert.deepEqual(auths(result), { "docker.io": A });
  assert.deepEqual(result.skipped, [
    { exportKey: "a/x", registries: ["ghcr.io"] },
    { exportKey: "b/y", registries: ["harbor.internal"] },
  ]);
  assert.equal(condition(result).type, "ReconcileSucceeded");
});

test("the result does not depend on the order candidates are given in", () => {
  const [a, b, c, d] = [
    candidate("a/x", { "docker.io": A, r: B }),
    candidate("b/y", { "docker.io": B }, { weight: 1 }),
    candidate("c/z", { r: C }),
    unreadable("d/w"),
  ];
  const expected = fill([a, b, c, d]);
  assert.deepEqual(fill([d, c, b, a]), expected);
  assert.deepEqual(fill([c, a, d, b]), expected);
});

test("the status annotation never contains a credential", () => {
  const secret = "hunter2-secret";
  const result = fill([
    candidate("a/x", { r: { password: secret } }),
    candidate("b/y", { r: { password: `${secret}-2` } }),
    {
      ...candidate("c/z", {}),
      source: parseDockerConfig(`{"auths":{"s":{"password":"${secret}","auth":1}}}`),
    },
    { ...candidate("d/w", {}), source: parseDockerConfig(`{"auths":{"s":{"password":"${secret}"}`) },
  ]);
  assert.ok(!result.status.includes(secret));
  assert.equal(result.unreadable.length, 2);
});

test("parsePlaceholderStatus reads back the sources and conflicts it wrote", () => {
  const result = fill([candidate("a/x", { "docker.io": A, r: A }), candidate("b/y", { r: B })]);
  assert.deepEqual(parsePlaceholderStatus(result.status), {
    sources: result.sources,
    conflicts: result.conflicts,
  });
});

test("parsePlaceholderStatus reads anything else as empty", async (t) => {
  const empty = { sources: new Map(), conflicts: [] };
  const inputs = [
    undefined,
    "",
    "{",
    "null",
    "[]",
    `${SUCCEEDED},"secretNames":["a/x"]}`,
    WRONG_TYPE_STATUS,
    '{"sources":[],"conflicts":{}}',
    '{"sources":{"r":1},"conflicts":[{"registry":"r"},{"registry":1,"exports":[]},{"registry":"r","exports":[2]}]}',
  ];
  for (const input of inputs) {
    await t.test(String(input), () => assert.deepEqual(parsePlaceholderStatus(input), empty));
  }
});

test("a placeholder of the wrong type gets carvel's failure status", () => {
  assert.equal(
    WRONG_TYPE_STATUS,
    '{"conditions":[{"type":"ReconcileFailed","status":"True","message":"Expected secret to have ' +
      'type=corev1.SecretTypeDockerConfigJson, but did not"}]}',
  );
});

test("exceedsSecretDataLimit counts the decoded bytes of all data values against 1 MiB", async (t) => {
  const cases: [string, string, number, boolean][] = [
    ["empty", "", 0, false],
    ["exactly the limit", "x".repeat(1024), 1_048_576 - 1024, false],
    ["one byte over", "x".repeat(1024), 1_048_576 - 1023, true],
    ["multi-byte characters count as UTF-8", "\u00e9".repeat(524_289), 0, true],
  ];
  for (const [name, json, other, expected] of cases) {
    await t.test(name, () => assert.equal(exceedsSecretDataLimit(json, other), expected));
  }
});

test("exceedsAnnotationLimit counts the status and every other annotation, key and value, against 256 KiB", async (t) => {
  const key = "secretgen.carvel.dev/status".length;
  const cases: [string, string, number, boolean][] = [
    ["small", "{}", 100, false],
    ["exactly the limit", "x".repeat(1024), 262_144 - 1024 - key, false],
    ["one byte over", "x".repeat(1024), 262_144 - 1023 - key, true],
    ["multi-byte characters count as UTF-8", "\u00e9".repeat(131_072), 0, true],
  ];
  for (const [name, status, other, expected] of cases) {
    await t.test(name, () => assert.equal(exceedsAnnotationLimit(status, other), expected));
  }
});
