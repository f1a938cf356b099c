import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ANNOTATION_ADDED_PULL_SECRETS } from "../../src/constants.ts";
import { parseAdded, serviceAccountPatch, type ServiceAccountView } from "../../src/core/service-account.ts";

const sa = (pullSecrets: string[], added?: Record<string, string[]> | string): ServiceAccountView => ({
  namespace: "app",
  name: "default",
  resourceVersion: "5",
  pullSecrets,
  added: added === undefined ? undefined : typeof added === "string" ? added : JSON.stringify(added),
});

const patch = (pullSecrets: string[] | undefined, added: Record<string, string[]> | null) => ({
  metadata: {
    resourceVersion: "5",
    annotations: { [ANNOTATION_ADDED_PULL_SECRETS]: added === null ? null : JSON.stringify(added) },
  },
  ...(pullSecrets === undefined ? {} : { imagePullSecrets: pullSecrets.map((name) => ({ name })) }),
});

describe("a ServiceAccount's imagePullSecrets: ours added, only ours removed", () => {
  const cases: {
    name: string;
    sa: ServiceAccountView;
    owner?: string;
    wanted: string | undefined;
    expected: unknown;
  }[] = [
    {
      name: "adds the entry after the others and records it",
      sa: sa(["theirs"]),
      wanted: "pull",
      expected: patch(["theirs", "pull"], { pull: ["cp-a"] }),
    },
    {
      name: "nothing to do when added and recorded",
      sa: sa(["theirs", "pull"], { pull: ["cp-a"] }),
      wanted: "pull",
      expected: undefined,
    },
    {
      name: "an entry someone else added is not recorded as ours",
      sa: sa(["pull"]),
      wanted: "pull",
      expected: undefined,
    },
    {
      name: "withdrawing removes only what it recorded",
      sa: sa(["theirs", "pull"], { pull: ["cp-a"] }),
      wanted: undefined,
      expected: patch(["theirs"], null),
    },
    {
      name: "withdrawing an entry someone else added leaves it",
      sa: sa(["pull"]),
      wanted: undefined,
      expected: undefined,
    },
    {
      name: "an entry two ClusterPlaceholders want stays until both withdrew",
      sa: sa(["pull"], { pull: ["cp-a", "cp-b"] }),
      wanted: undefined,
      expected: patch(undefined, { pull: ["cp-b"] }),
    },
    {
      name: "a second ClusterPlaceholder wanting a recorded entry joins the record",
      sa: sa(["pull"], { pull: ["cp-b"] }),
      wanted: "pull",
      expected: patch(undefined, { pull: ["cp-a", "cp-b"] }),
    },
    {
      name: "a changed secretName swaps the entry",
      sa: sa(["pull", "theirs"], { pull: ["cp-a"] }),
      wanted: "pull2",
      expected: patch(["theirs", "pull2"], { pull2: ["cp-a"] }),
    },
    {
      name: "a recorded entry someone removed is added back",
      sa: sa([], { pull: ["cp-a"] }),
      wanted: "pull",
      expected: patch(["pull"], { pull: ["cp-a"] }),
    },
    {
      name: "an unreadable record counts as nothing recorded: nothing is removed",
      sa: sa(["pull"], "not json"),
      wanted: undefined,
      expected: undefined,
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(serviceAccountPatch(c.sa, c.owner ?? "cp-a", c.wanted), c.expected));
  }
  test("the record keeps only well-formed entries", () =>
    assert.deepEqual(parseAdded('{"a":["x"],"b":"y","c":[1]}'), { a: ["x"] }));
});
