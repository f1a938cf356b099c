// Which namespaces a SecretExport reaches (SPEC §2), and why, for the controller and for `explain`.

import { Minimatch } from "minimatch";
import { ANNOTATION_EXCLUDED_FROM_WILDCARD } from "../constants.ts";
import { compileJsonPath } from "./jsonpath.ts";
import { checkOperator, compileLabelSelector, type LabelMatcher, type Operator } from "./label-selector.ts";
import type { FieldProblem, NamespaceView, SecretExportSpec, SelectorRequirement } from "./types.ts";

export interface CompiledExport {
  /** Exact names, each with the field that lists it first. */
  readonly names: ReadonlyMap<string, string>;
  readonly globs: readonly Glob[];
  readonly labelSelector: LabelMatcher | undefined;
  /** ANDed; an empty list matches nothing. */
  readonly jsonPathSelector: readonly JsonPathRequirement[];
}

export interface Glob {
  field: string;
  pattern: string;
  matcher: Minimatch;
}

interface JsonPathRequirement {
  key: string;
  operator: Operator;
  values: readonly string[];
  evaluate(namespace: unknown): string;
}

export type CompileResult = { ok: true; compiled: CompiledExport } | { ok: false; problems: FieldProblem[] };

export type ReachRule = "exactName" | "glob" | "labelSelector" | "jsonPathSelector";

export type Reach = { reached: true; rule: ReachRule; detail: string } | { reached: false; why: string };

export function compileExport(spec: SecretExportSpec): CompileResult {
  const problems: FieldProblem[] = hasDestination(spec) ? [] : [NO_DESTINATION];
  const { names, globs } = compileStaticList(spec, problems);
  const labelSelector = compileToNamespaceSelector(spec, problems);
  const jsonPathSelector = compileJsonPathSelector(spec, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, compiled: { names, globs, labelSelector, jsonPathSelector } };
}

export function reach(compiled: CompiledExport, namespace: NamespaceView): Reach {
  if (namespace.terminating) return { reached: false, why: "the namespace is being deleted" };
  const listedBy = compiled.names.get(namespace.name);
  if (listedBy !== undefined) return { reached: true, rule: "exactName", detail: `listed in ${listedBy}` };
  const glob = compiled.globs.find((g) => g.matcher.match(namespace.name));
  const excluded = Object.hasOwn(namespace.annotations, ANNOTATION_EXCLUDED_FROM_WILDCARD);
  if (glob !== undefined && !excluded) {
    return { reached: true, rule: "glob", detail: `matches ${glob.field} ${JSON.stringify(glob.pattern)}` };
  }
  const selector = compiled.labelSelector;
  if (selector?.matches(namespace.labels)) {
    return {
      reached: true,
      rule: "labelSelector",
      detail: `matches spec.toNamespaceSelector ${selector.description || "{}"}`,
    };
  }
  const requirements = compiled.jsonPathSelector;
  if (requirements.length > 0 && requirements.every((r) => holds(r, namespace.object))) {
    const detail = `matches spec.dangerousToNamespacesSelector ${requirements.map(describe).join(" and ")}`;
    return { reached: true, rule: "jsonPathSelector", detail };
  }
  if (glob === undefined) return { reached: false, why: NO_MATCH };
  const entry = `${glob.field} ${JSON.stringify(glob.pattern)}`;
  return {
    reached: false,
    why: `${entry} matches its name, but the namespace is annotated ${ANNOTATION_EXCLUDED_FROM_WILDCARD}`,
  };
}

/**
 * Whether the answer for a namespace depends on more than its name: its labels, its annotations
 * (globs honour the exclusion annotation) or anything a JSONPath key reads.
 */
export function usesNamespaceMetadata(compiled: CompiledExport): boolean {
  return (
    compiled.globs.length > 0 || compiled.labelSelector !== undefined || compiled.jsonPathSelector.length > 0
  );
}

/** The only namespaces the export can reach, when it lists them all by name. */
export function exactNames(compiled: CompiledExport): string[] | undefined {
  return usesNamespaceMetadata(compiled) ? undefined : [...compiled.names.keys()];
}

const NO_MATCH = "no toNamespace/toNamespaces entry or selector matches it";

const NO_DESTINATION: FieldProblem = {
  field: "spec",
  message:
    "Expected to have at least one non-empty to namespace or selector: set toNamespace, toNamespaces, " +
    "toNamespaceSelector or dangerousToNamespacesSelector",
};

function hasDestination(spec: SecretExportSpec): boolean {
  return (
    staticEntries(spec).length > 0 ||
    spec.toNamespaceSelector !== undefined ||
    (spec.dangerousToNamespacesSelector?.length ?? 0) > 0
  );
}

/** carvel's StaticToNamespaces: toNamespaces, then toNamespace unless it is empty. */
function staticEntries(spec: SecretExportSpec): { field: string; value: string }[] {
  const entries = (spec.toNamespaces ?? []).map((value, i) => ({ field: `spec.toNamespaces[${i}]`, value }));
  return spec.toNamespace ? [...entries, { field: "spec.toNamespace", value: spec.toNamespace }] : entries;
}

function compileStaticList(spec: SecretExportSpec, problems: FieldProblem[]) {
  return compileEntries(staticEntries(spec), problems);
}

/** Names and globs listed at `field` (`field[i]`), checked as toNamespaces entries are. */
export function compileNamespaceNames(values: readonly string[], field: string, problems: FieldProblem[]) {
  return compileEntries(
    values.map((value, i) => ({ field: `${field}[${i}]`, value })),
    problems,
  );
}

/** How a glob entry reads in a reason: `spec.toNamespaces[0] "team-*"`. */
export const globEntry = (glob: { field: string; pattern: string }): string =>
  `${glob.field} ${JSON.stringify(glob.pattern)}`;

function compileEntries(entries: { field: string; value: string }[], problems: FieldProblem[]) {
  const names = new Map<string, string>();
  const globs: Glob[] = [];
  for (const { field, value } of entries) {
    if (value === "") {
      problems.push({
        field,
        message: "Expected to namespace to be non-empty: remove the entry or name a namespace",
      });
    } else if (!isGlob(value)) {
      if (!names.has(value)) names.set(value, field);
    } else {
      const glob = compileGlob(value, field);
      if ("matcher" in glob) globs.push(glob);
      else problems.push(glob);
    }
  }
  return { names, globs };
}

function isGlob(entry: string): boolean {
  return /[*?[\]{}]/.test(entry);
}

const GLOB_OPTIONS = { nonegate: true, nocomment: true, noext: true } as const;

function compileGlob(pattern: string, field: string): Glob | FieldProblem {
  const invalid = (why: string): FieldProblem => ({
    field,
    message: `${JSON.stringify(pattern)} is not a valid glob: ${why}`,
  });
  const syntax = globSyntaxProblem(pattern);
  if (syntax !== undefined) return invalid(syntax);
  let matcher: Minimatch;
  try {
    matcher = new Minimatch(pattern, GLOB_OPTIONS);
  } catch (error) {
    return invalid(error instanceof Error ? error.message : String(error));
  }
  // minimatch drops the alternatives it cannot compile; with none left, nothing can match.
  if (matcher.set.length === 0) return invalid("it can never match a namespace name");
  return { field, pattern, matcher };
}

// minimatch reads an unclosed "[" or "{" as a literal character and silently drops a reversed range,
// so a typo would quietly match nothing (namespace names never contain these characters).
function globSyntaxProblem(glob: string): string | undefined {
  let openBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === "\\") {
      i++;
    } else if (c === "[") {
      const end = classEnd(glob, i);
      if (typeof end === "string") return end;
      i = end;
    } else if (c === "]") {
      return `"]" without "["`;
    } else if (c === "{") {
      openBraces++;
    } else if (c === "}" && --openBraces < 0) {
      return `"}" without "{"`;
    }
  }
  return openBraces > 0 ? `"{" without "}"` : undefined;
}

const POSIX_CLASS = "classes such as [:alpha:] are not supported; use a range such as [a-z]";

/** The index of the "]" closing the class opened at open, or what is wrong with the class. */
function classEnd(glob: string, open: number): number | string {
  const first = glob.charAt(open + 1) === "!" || glob.charAt(open + 1) === "^" ? open + 2 : open + 1;
  for (let i = first; i < glob.length; i++) {
    const c = glob.charAt(i);
    const high = glob.charAt(i + 2);
    if (c === "]" && i > first) return i;
    if (glob.startsWith("[:", i)) return POSIX_CLASS;
    if (c === "\\") {
      i++;
    } else if (glob.charAt(i + 1) === "-" && high !== "" && high !== "]") {
      if (high < c) return `the range ${c}-${high} is reversed`;
      i += 2;
    }
  }
  return `"[" without "]"`;
}

function compileToNamespaceSelector(
  spec: SecretExportSpec,
  problems: FieldProblem[],
): LabelMatcher | undefined {
  if (spec.toNamespaceSelector === undefined) return undefined;
  const compiled = compileLabelSelector(spec.toNamespaceSelector, "spec.toNamespaceSelector");
  if (compiled.ok) return compiled.matcher;
  problems.push(...compiled.problems);
  return undefined;
}

function compileJsonPathSelector(spec: SecretExportSpec, problems: FieldProblem[]): JsonPathRequirement[] {
  return (spec.dangerousToNamespacesSelector ?? []).flatMap((requirement, i) => {
    const compiled = compileRequirement(requirement, `spec.dangerousToNamespacesSelector[${i}]`);
    if ("evaluate" in compiled) return [compiled];
    problems.push(...compiled);
    return [];
  });
}

function compileRequirement(
  requirement: SelectorRequirement,
  field: string,
): JsonPathRequirement | FieldProblem[] {
  const { key, values = [] } = requirement;
  const path = compileJsonPath(key);
  const operator = checkOperator(requirement.operator, values, field);
  const problems: FieldProblem[] = [];
  if (!path.ok) {
    problems.push({
      field: `${field}.key`,
      message:
        `${JSON.stringify(key)} is not a supported JSONPath: ${path.message}. ` +
        "Write a path such as metadata.labels.team, escaping dots inside names as \\.",
    });
  }
  if (typeof operator !== "string") problems.push(operator);
  if (!path.ok || typeof operator !== "string") return problems;
  return { key, operator, values, evaluate: path.evaluate };
}

/** carvel's rule: the printed value, "" when the key is missing. */
function holds(requirement: JsonPathRequirement, namespace: unknown): boolean {
  const value = requirement.evaluate(namespace);
  switch (requirement.operator) {
    case "In":
      return requirement.values.includes(value);
    case "NotIn":
      return !requirement.values.includes(value);
    case "Exists":
      return value !== "";
    case "DoesNotExist":
      return value === "";
  }
}

function describe({ key, operator, values }: JsonPathRequirement): string {
  return values.length > 0 ? `${key} ${operator} ${JSON.stringify(values)}` : `${key} ${operator}`;
}
