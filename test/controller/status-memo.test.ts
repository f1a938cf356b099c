import assert from "node:assert/strict";
import { test } from "node:test";
import { createStatusMemo } from "../../src/controller/status-memo.ts";

test("a written status stands in for the cached one until the cache reaches the write's resourceVersion", () => {
  const memo = createStatusMemo<string>();
  assert.equal(memo.current("a/x", "10", "cached"), "cached", "nothing written: the cache");
  memo.wrote("a/x", "12", "written");
  const rows: [cachedVersion: string, expected: string][] = [
    ["10", "written"],
    ["11", "written"],
    ["12", "cached"],
  ];
  for (const [version, expected] of rows)
    assert.equal(memo.current("a/x", version, "cached"), expected, version);
  assert.equal(memo.size(), 0, "caught up: forgotten");
});

test("a cache past the write, or a resourceVersion that is not a revision, ends the memo", () => {
  const memo = createStatusMemo<string>();
  memo.wrote("a/x", "12", "written");
  assert.equal(memo.current("a/x", "15", "cached"), "cached");
  memo.wrote("a/y", "opaque", "written");
  assert.equal(memo.current("a/y", "3", "cached"), "cached");
  memo.wrote("a/z", "20", "written");
  memo.forget("a/z");
  memo.wrote("a/w", undefined, "written");
  assert.equal(memo.size(), 0);
});
