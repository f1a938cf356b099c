import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createConflictIndex } from "../../src/controller/conflict-index.ts";
import type { Conflict } from "../../src/core/placeholder.ts";

const conflict = (registry: string, ...exports: string[]): Conflict => ({ registry, exports });
const sorted = (keys: string[]) => keys.toSorted();
const byRegistryThenNamespace = (a: { registry: string; namespace: string }, b: typeof a) =>
  a.registry.localeCompare(b.registry) || a.namespace.localeCompare(b.namespace);

describe("createConflictIndex", () => {
  test("set returns exactly the exports whose involvement in the placeholder changed", () => {
    const rows: [name: string, before: Conflict[], after: Conflict[], changed: string[]][] = [
      ["a first conflict involves its exports", [], [conflict("r1", "a/x", "b/y")], ["a/x", "b/y"]],
      [
        "an unchanged list changes nothing",
        [conflict("r1", "a/x", "b/y")],
        [conflict("r1", "a/x", "b/y")],
        [],
      ],
      ["clearing the conflicts releases every export", [conflict("r1", "a/x", "b/y")], [], ["a/x", "b/y"]],
      ["no conflicts before or after changes nothing", [], [], []],
      [
        "an export that joins a conflict is added",
        [conflict("r1", "a/x", "b/y")],
        [conflict("r1", "a/x", "b/y", "c/z")],
        ["c/z"],
      ],
      [
        "an export that leaves a conflict is removed",
        [conflict("r1", "a/x", "b/y", "c/z")],
        [conflict("r1", "a/x", "b/y")],
        ["c/z"],
      ],
      [
        "one export leaving and another joining are both reported",
        [conflict("r1", "a/x", "b/y")],
        [conflict("r1", "a/x", "c/z")],
        ["b/y", "c/z"],
      ],
      [
        "an export gaining a registry is reported, one whose registries are unchanged is not",
        [conflict("r1", "a/x", "b/y")],
        [conflict("r1", "a/x", "b/y"), conflict("r2", "a/x", "c/z")],
        ["a/x", "c/z"],
      ],
      [
        "an export losing one of its registries is reported",
        [conflict("r1", "a/x", "b/y"), conflict("r2", "a/x", "c/z")],
        [conflict("r1", "a/x", "b/y")],
        ["a/x", "c/z"],
      ],
      [
        "the same conflicts in another order change nothing",
        [conflict("r1", "a/x", "b/y"), conflict("r2", "a/x", "c/z")],
        [conflict("r2", "a/x", "c/z"), conflict("r1", "a/x", "b/y")],
        [],
      ],
    ];
    for (const [name, before, after, changed] of rows) {
      const index = createConflictIndex();
      index.set("ns/pull", before);
      assert.deepEqual(sorted(index.set("ns/pull", after)), changed, name);
      assert.deepEqual(
        index.set(
          "ns/pull",
          after.map((c) => ({ ...c })),
        ),
        [],
        `${name}, then again`,
      );
    }
  });

  test("set on one placeholder reports nothing about the exports of another", () => {
    const index = createConflictIndex();
    index.set("ns-1/pull", [conflict("r1", "a/x", "b/y")]);
    assert.deepEqual(sorted(index.set("ns-2/pull", [conflict("r1", "a/x", "c/z")])), ["a/x", "c/z"]);
    assert.deepEqual(sorted(index.set("ns-2/pull", [])), ["a/x", "c/z"]);
    assert.deepEqual(index.set("ns-3/pull", []), []);
  });

  test("of lists the registry and placeholder namespace of each conflict of that export only", () => {
    const index = createConflictIndex();
    index.set("ns-1/pull", [conflict("r1", "a/x", "b/y"), conflict("r2", "b/y", "c/z")]);
    index.set("ns-2/other", [conflict("r1", "a/x", "c/z")]);
    const rows: [exportKey: string, expected: { registry: string; namespace: string }[]][] = [
      [
        "a/x",
        [
          { registry: "r1", namespace: "ns-1" },
          { registry: "r1", namespace: "ns-2" },
        ],
      ],
      [
        "b/y",
        [
          { registry: "r1", namespace: "ns-1" },
          { registry: "r2", namespace: "ns-1" },
        ],
      ],
      [
        "c/z",
        [
          { registry: "r1", namespace: "ns-2" },
          { registry: "r2", namespace: "ns-1" },
        ],
      ],
      ["d/w", []],
    ];
    for (const [exportKey, expected] of rows) {
      assert.deepEqual(index.of(exportKey).toSorted(byRegistryThenNamespace), expected, exportKey);
    }
    assert.equal(index.total(), 3);
  });

  test("clearing a placeholder removes its conflicts and keeps the others", () => {
    const index = createConflictIndex();
    index.set("ns-1/pull", [conflict("r1", "a/x", "b/y")]);
    index.set("ns-2/pull", [conflict("r1", "a/x", "c/z")]);
    index.set("ns-1/pull", []);
    assert.deepEqual(index.of("a/x"), [{ registry: "r1", namespace: "ns-2" }]);
    assert.deepEqual(index.of("b/y"), []);
    assert.equal(index.total(), 1);
    index.set("ns-2/pull", []);
    assert.deepEqual(index.of("a/x"), []);
    assert.equal(index.total(), 0);
  });

  test("an export that leaves a conflict is no longer listed for it, while the others still are", () => {
    const index = createConflictIndex();
    index.set("ns/pull", [conflict("r1", "a/x", "b/y", "c/z")]);
    index.set("ns/pull", [conflict("r1", "a/x", "b/y")]);
    assert.deepEqual(index.of("c/z"), []);
    assert.deepEqual(index.of("a/x"), [{ registry: "r1", namespace: "ns" }]);
    index.set("ns/pull", [conflict("r1", "a/x", "b/y", "c/z")]);
    assert.deepEqual(index.of("c/z"), [{ registry: "r1", namespace: "ns" }]);
  });

  test("random conflicts set and cleared leave both maps empty (seeded, reproducible)", () => {
    let seed = 13;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(items: readonly T[]) => items[random(items.length)] as T;
    const placeholders = ["a/pull", "b/pull", "c/pull", "c/other"];
    const exportKeys = ["x/1", "x/2", "y/1", "y/2", "z/1"];
    const index = createConflictIndex();
    for (let step = 0; step < 2_000; step++) {
      const conflicts = Array.from({ length: random(3) }, (_, i) =>
        conflict(`r${i}`, ...new Set([pick(exportKeys), pick(exportKeys)])),
      );
      index.set(pick(placeholders), conflicts);
    }
    for (const key of placeholders) index.set(key, []);
    assert.deepEqual(index.sizes(), { byPlaceholder: 0, byExport: 0 });
    assert.equal(index.total(), 0);
  });
});
