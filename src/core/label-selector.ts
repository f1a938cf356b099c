// metav1.LabelSelector on Namespace labels, checked the way the API server checks a selector in a
// built-in object (a CRD schema cannot).

import type { FieldProblem, LabelSelector, StringMap } from "./types.ts";

export type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelMatcher {
  matches(labels: StringMap): boolean;
  /** kubectl's form, such as `env in (dev,stage),!legacy,team=a`; "" for {}, which matches everything. */
  description: string;
}

export type CompiledLabelSelector =
  { ok: true; matcher: LabelMatcher } | { ok: false; problems: FieldProblem[] };

interface Requirement {
  key: string;
  operator: Operator;
  values: readonly string[];
  text: string;
}

/** field is the selector's path, such as spec.toNamespaceSelector; problems name paths below it. */
export function compileLabelSelector(selector: LabelSelector, field: string): CompiledLabelSelector {
  const problems: FieldProblem[] = [];
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const at = `${field}.matchLabels[${key}]`;
    problems.push(...keyProblems(key, at), ...valueProblems(value, at));
    requirements.push({ key, operator: "In", values: [value], text: `${key}=${value}` });
  }
  (selector.matchExpressions ?? []).forEach(({ key, operator, values = [] }, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    const checked = checkOperator(operator, values, at);
    if (typeof checked !== "string") problems.push(checked);
    problems.push(...keyProblems(key, `${at}.key`));
    problems.push(...values.flatMap((value, j) => valueProblems(value, `${at}.values[${j}]`)));
    if (typeof checked === "string") requirements.push(expression(key, checked, values));
  });
  if (problems.length > 0) return { ok: false, problems };
  const matches = (labels: StringMap) => requirements.every((r) => holds(r, labels));
  return { ok: true, matcher: { matches, description: describe(requirements) } };
}

/**
 * The operator, or the problem with it or its values: In and NotIn need values, Exists and
 * DoesNotExist take none. The messages are carvel's, which dangerousToNamespacesSelector shares.
 */
export function checkOperator(
  operator: string,
  values: readonly string[],
  field: string,
): Operator | FieldProblem {
  switch (operator) {
    case "In":
    case "NotIn":
      if (values.length > 0) return operator;
      return {
        field: `${field}.values`,
        message: "Values must be specified when `operator` is 'In' or 'NotIn'",
      };
    case "Exists":
    case "DoesNotExist":
      if (values.length === 0) return operator;
      return {
        field: `${field}.values`,
        message: "Values may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      };
    default:
      return {
        field: `${field}.operator`,
        message: `Unsupported operator ${JSON.stringify(operator)}: use In, NotIn, Exists or DoesNotExist`,
      };
  }
}

function expression(key: string, operator: Operator, values: readonly string[]): Requirement {
  const list = `(${values.toSorted().join(",")})`;
  const text = {
    In: `${key} in ${list}`,
    NotIn: `${key} notin ${list}`,
    Exists: key,
    DoesNotExist: `!${key}`,
  };
  return { key, operator, values, text: text[operator] };
}

function describe(requirements: readonly Requirement[]): string {
  const byKey = requirements.toSorted((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return byKey.map((r) => r.text).join(",");
}

function holds(requirement: Requirement, labels: StringMap): boolean {
  const value = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "In":
      return value !== undefined && requirement.values.includes(value);
    case "NotIn":
      return value === undefined || !requirement.values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
  }
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME_RULE = "1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/** A label key is a name with an optional DNS subdomain prefix: example.com/team. */
function keyProblems(key: string, field: string): FieldProblem[] {
  const parts = key.split("/");
  const [prefix, name = ""] = parts.length === 2 ? parts : [undefined, key];
  let why: string | undefined;
  if (parts.length > 2) why = "it may contain at most one '/', as in example.com/team";
  else if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    why =
      "the prefix before '/' must be a lower-case DNS subdomain of at most 253 characters, such as example.com";
  } else if (name.length > 63 || !NAME.test(name)) why = `the name must be ${NAME_RULE}`;
  return why === undefined ? [] : [{ field, message: `Invalid label key ${JSON.stringify(key)}: ${why}` }];
}

function valueProblems(value: string, field: string): FieldProblem[] {
  if (value.length <= 63 && VALUE.test(value)) return [];
  return [{ field, message: `Invalid label value ${JSON.stringify(value)}: use "" or ${NAME_RULE}` }];
}
