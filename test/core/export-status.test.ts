import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ANNOTATION_WEIGHT,
  MESSAGE_MISSING_EXPORTED_SECRET,
  REASON_CONFLICT,
  REASON_EXPORTED,
  REASON_INVALID_DOCKER_CONFIG,
  REASON_INVALID_SPEC,
  REASON_SECRET_NOT_FOUND,
  REASON_SOURCE_IS_PLACEHOLDER,
  SECRET_TYPE_DOCKER_CONFIG_JSON,
} from "../../src/constants.ts";
import { parseDockerConfig } from "../../src/core/dockerconfig.ts";
import { exportStatusFields } from "../../src/core/export-status.ts";
import type { ExportFacts } from "../../src/core/export-status.ts";

const CREDENTIAL = { username: "u", password: "p" };
const READABLE = parseDockerConfig(JSON.stringify({ auths: { "docker.io": CREDENTIAL } }));
const UNREADABLE = parseDockerConfig("{not json");
const WITH_EMPTY_ENTRIES = parseDockerConfig(
  JSON.stringify({ auths: { "docker.io": CREDENTIAL, "b.example": {}, "a.example": { username: "" } } }),
);

const dockerSource = (parsed = READABLE) => ({
  resourceVersion: "42",
  type: SECRET_TYPE_DOCKER_CONFIG_JSON,
  placeholder: false,
  parsed,
});
const opaqueSource = { resourceVersion: "42", type: "Opaque", placeholder: false };
const PROBLEMS = [{ field: "spec.toNamespace", message: '"[a" is not a valid glob' }];
const CONFLICTS = [{ registry: "docker.io", namespace: "team-a" }];

function facts(overrides: Partial<ExportFacts>): ExportFacts {
  return { problems: undefined, source: dockerSource(), conflicts: [], namespacesReached: 3, ...overrides };
}

describe("exportStatusFields", () => {
  test("reports the first problem in the order InvalidSpec, SecretNotFound, SourceIsPlaceholder, InvalidDockerConfig, Conflict, Exported", () => {
    const rows: [name: string, facts: ExportFacts, reason: string][] = [
      [
        "spec problems win over everything",
        facts({ problems: PROBLEMS, source: undefined, conflicts: CONFLICTS }),
        REASON_INVALID_SPEC,
      ],
      [
        "spec problems win over an unreadable source",
        facts({ problems: PROBLEMS, source: dockerSource(UNREADABLE) }),
        REASON_INVALID_SPEC,
      ],
      [
        "a missing source wins over conflicts",
        facts({ source: undefined, conflicts: CONFLICTS }),
        REASON_SECRET_NOT_FOUND,
      ],
      [
        "an unreadable source wins over conflicts",
        facts({ source: dockerSource(UNREADABLE), conflicts: CONFLICTS }),
        REASON_INVALID_DOCKER_CONFIG,
      ],
      [
        "a placeholder as source wins over an unreadable source and conflicts",
        facts({ source: { ...dockerSource(UNREADABLE), placeholder: true }, conflicts: CONFLICTS }),
        REASON_SOURCE_IS_PLACEHOLDER,
      ],
      [
        "an Opaque placeholder as source is refused as well",
        facts({ source: { ...opaqueSource, placeholder: true } }),
        REASON_SOURCE_IS_PLACEHOLDER,
      ],
      ["conflicts win over success", facts({ conflicts: CONFLICTS }), REASON_CONFLICT],
      ["a readable source without conflicts is exported", facts({}), REASON_EXPORTED],
      ["an Opaque source that was not parsed is exported", facts({ source: opaqueSource }), REASON_EXPORTED],
      [
        "an Opaque source is never InvalidDockerConfig, whatever its data",
        facts({ source: { ...opaqueSource, parsed: UNREADABLE } }),
        REASON_EXPORTED,
      ],
    ];
    for (const [name, input, reason] of rows) {
      const { outcome } = exportStatusFields(input);
      assert.equal(outcome.reason, reason, name);
      assert.equal(outcome.ready, reason === REASON_EXPORTED, name);
    }
  });

  test("SourceIsPlaceholder reaches no namespace, says why and what to do, and observes the Secret", () => {
    const fields = exportStatusFields(facts({ source: { ...dockerSource(), placeholder: true } }));
    assert.equal(fields.namespacesReached, 0);
    assert.equal(fields.observedSecretResourceVersion, "42");
    assert.match(fields.outcome.message, /image-pull-secret annotation: it is a placeholder/);
    assert.match(fields.outcome.message, /Export the Secret the credentials come from instead/);
  });

  test("InvalidSpec lists every problem in carvel's format, reaches no namespace and observes no Secret", () => {
    const problems = [
      { field: "spec", message: "Expected to have at least one non-empty to namespace or selector" },
      { field: "spec.toNamespaces[1]", message: '"[a" is not a valid glob' },
    ];
    assert.deepEqual(exportStatusFields(facts({ problems, namespacesReached: 7 })), {
      outcome: {
        ready: false,
        reason: REASON_INVALID_SPEC,
        message:
          "Validation errors:\n" +
          "- spec: Expected to have at least one non-empty to namespace or selector\n" +
          '- spec.toNamespaces[1]: "[a" is not a valid glob',
      },
      namespacesReached: 0,
    });
  });

  test("SecretNotFound says carvel's exact message and has no observedSecretResourceVersion", () => {
    const fields = exportStatusFields(facts({ source: undefined, namespacesReached: 2 }));
    assert.deepEqual(fields, {
      outcome: { ready: false, reason: REASON_SECRET_NOT_FOUND, message: MESSAGE_MISSING_EXPORTED_SECRET },
      namespacesReached: 2,
    });
    assert.equal(MESSAGE_MISSING_EXPORTED_SECRET, "Missing exported secret");
    assert.equal(Object.hasOwn(fields, "observedSecretResourceVersion"), false);
  });

  test("InvalidDockerConfig says what is unreadable, that placeholders keep their registries, and observes the Secret", () => {
    const fields = exportStatusFields(facts({ source: dockerSource(UNREADABLE), namespacesReached: 4 }));
    assert.equal(fields.outcome.reason, REASON_INVALID_DOCKER_CONFIG);
    assert.match(fields.outcome.message, /\.dockerconfigjson is unreadable: not valid JSON/);
    assert.match(fields.outcome.message, /placeholders keep the registries it provided/);
    assert.equal(fields.observedSecretResourceVersion, "42");
    assert.equal(fields.namespacesReached, 4);
  });

  test("Conflict names each registry with its namespaces, sorted and de-duplicated, and how to resolve it", () => {
    const fields = exportStatusFields(
      facts({
        conflicts: [
          { registry: "quay.io", namespace: "team-b" },
          { registry: "docker.io", namespace: "team-b" },
          { registry: "docker.io", namespace: "team-a" },
          { registry: "docker.io", namespace: "team-a" },
        ],
      }),
    );
    assert.equal(fields.outcome.reason, REASON_CONFLICT);
    assert.equal(fields.outcome.ready, false);
    assert.equal(
      fields.outcome.message,
      'Conflicting credentials rejected for registry "docker.io" in namespaces team-a, team-b; ' +
        'registry "quay.io" in namespaces team-b: another export offers different credentials; ' +
        `set the ${ANNOTATION_WEIGHT} annotation on the export that should win`,
    );
    assert.equal(fields.observedSecretResourceVersion, "42");
    assert.equal(fields.namespacesReached, 3);
  });

  test("Conflict lists at most 5 namespaces per registry and counts the rest", () => {
    const rows: [count: number, listed: string][] = [
      [1, "in namespaces ns-01:"],
      [5, "in namespaces ns-01, ns-02, ns-03, ns-04, ns-05:"],
      [6, "in namespaces ns-01, ns-02, ns-03, ns-04, ns-05 and 1 more:"],
      [12, "in namespaces ns-01, ns-02, ns-03, ns-04, ns-05 and 7 more:"],
    ];
    for (const [count, listed] of rows) {
      const conflicts = Array.from({ length: count }, (_, i) => ({
        registry: "docker.io",
        namespace: `ns-${String(i + 1).padStart(2, "0")}`,
      }));
      const { message } = exportStatusFields(facts({ conflicts: conflicts.toReversed() })).outcome;
      assert.ok(message.includes(`registry "docker.io" ${listed}`), `${count}: ${message}`);
      if (count <= 5) assert.doesNotMatch(message, /more/, String(count));
    }
  });

  test("Exported counts the namespaces, singular for one, and notes the entries skipped for having no credential", () => {
    const rows: [name: string, input: ExportFacts, message: string][] = [
      ["none", facts({ namespacesReached: 0 }), "Exported to 0 namespaces"],
      ["one", facts({ namespacesReached: 1 }), "Exported to 1 namespace"],
      ["several", facts({ namespacesReached: 12 }), "Exported to 12 namespaces"],
      ["opaque", facts({ source: opaqueSource, namespacesReached: 2 }), "Exported to 2 namespaces"],
      [
        "skipped entries",
        facts({ source: dockerSource(WITH_EMPTY_ENTRIES), namespacesReached: 2 }),
        "Exported to 2 namespaces; entries without credentials skipped: b.example, a.example",
      ],
    ];
    for (const [name, input, message] of rows) {
      assert.deepEqual(
        exportStatusFields(input),
        {
          outcome: { ready: true, reason: REASON_EXPORTED, message },
          observedSecretResourceVersion: "42",
          namespacesReached: input.namespacesReached,
        },
        name,
      );
    }
  });
});

test("InvalidDockerConfig names the namespaces it reaches, sorted, at most 5, and counts the rest", () => {
  const rows: [reached: string[], where: string][] = [
    [[], "placeholders keep"],
    [["team-b", "team-a"], "placeholders in namespaces team-a, team-b keep"],
    [
      ["n7", "n6", "n5", "n4", "n3", "n2", "n1"],
      "placeholders in namespaces n1, n2, n3, n4, n5 and 2 more keep",
    ],
  ];
  for (const [reached, where] of rows) {
    const { message } = exportStatusFields(
      facts({
        source: dockerSource(UNREADABLE),
        namespacesReached: reached.length,
        reachedNamespaces: reached,
      }),
    ).outcome;
    assert.ok(message.includes(`; ${where} the registries it provided until it is fixed`), message);
  }
});
