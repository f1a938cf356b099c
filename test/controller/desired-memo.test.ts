// The memo of desiredPlaceholder: what it returns is always what desiredPlaceholder decides, and a
// placeholder sharing a candidate list and content with one decided before costs no new decision.
import assert from "node:assert/strict";
import { test } from "node:test";
import { memoisedDesiredPlaceholder } from "../../src/controller/desired-memo.ts";
import { parseDockerConfig } from "../../src/core/dockerconfig.ts";
import { type Candidate, desiredPlaceholder, type PlaceholderInput } from "../../src/core/placeholder.ts";

const candidate = (exportKey: string, password: string, weight = 0): Candidate => ({
  exportKey,
  weight,
  sameNamespace: false,
  exact: false,
  source: parseDockerConfig(JSON.stringify({ auths: { "registry.example": { username: "u", password } } })),
});
const agreeing = [candidate("a/one", "p"), candidate("b/two", "p")];
const conflicting = [candidate("a/one", "p"), candidate("b/two", "q")];

test("a memoised decision is the decision desiredPlaceholder makes, for every content a placeholder may hold", () => {
  const desire = memoisedDesiredPlaceholder();
  const filled = desiredPlaceholder({
    candidates: conflicting,
    currentConfig: undefined,
    currentStatus: undefined,
  });
  const contents: Omit<PlaceholderInput, "candidates">[] = [
    { currentConfig: undefined, currentStatus: undefined },
    { currentConfig: "{}", currentStatus: undefined },
    { currentConfig: "{}", currentStatus: "" },
    { currentConfig: filled.dockerConfigJson, currentStatus: filled.status },
    {
      currentConfig: '{"auths":{"registry.example":{"username":"u","password":"q"}}}',
      currentStatus: undefined,
    },
    { currentConfig: "not json", currentStatus: "not json either" },
  ];
  for (const candidates of [agreeing, conflicting, []])
    for (const content of contents) {
      const input = { candidates, ...content };
      assert.deepEqual(desire(input), desiredPlaceholder(input), JSON.stringify(content));
      assert.deepEqual(desire(input), desiredPlaceholder(input), `asked again: ${JSON.stringify(content)}`);
    }
});

test("placeholders sharing a candidate list and content share one decision; other content is decided anew", () => {
  const desire = memoisedDesiredPlaceholder();
  const empty = { candidates: agreeing, currentConfig: "{}", currentStatus: undefined };
  const first = desire(empty);
  assert.equal(desire({ ...empty }), first, "same list, same content: the same result");
  assert.notEqual(desire({ ...empty, currentStatus: "" }), first, "an empty status is not a missing one");
  assert.notEqual(
    desire({ ...empty, candidates: [...agreeing] }),
    first,
    "another list is decided for itself",
  );
});
