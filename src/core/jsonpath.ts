// The part of kubectl's JSONPath (k8s.io/client-go/util/jsonpath) that carvel's
// dangerousToNamespacesSelector uses: carvel evaluates "{." + key + "}" on the Namespace as JSON and
// compares the printed text.
//
// Supported, as client-go reads them:
// - fields `a.b`; `\.` keeps a dot inside a name, and every other backslash is dropped;
// - `['name']`: the quoted text is read again as `.name`, so unescaped dots inside it still split;
// - `..name` (a key with a leading dot): recursive descent;
// - `.*` (every child) and `[*]` / `[n]` / `[-n]` on arrays;
// - spaces, `@` and `$` between steps are skipped.
// Filters, unions, slices, literals and range/end are parse errors here rather than evaluated some
// other way, as are `}` and empty field names (client-go would print text or nothing for those).
//
// Evaluation prints what client-go prints: strings raw, numbers as Go's %v, booleans as text, null as
// "<nil>", maps and arrays as Go's encoding/json; several results are joined by spaces. A missing
// key, or any error client-go reports at execution (an index out of range, `[n]` on a map), prints
// "", because carvel ignores execution errors. Where client-go walks a map in Go's random order
// (`.*`, `..`), keys are visited in sorted order; strings are not walked into as byte lists.

import { Buffer } from "node:buffer";
import { isJsonObject } from "./json.ts";

export type CompiledJsonPath = { ok: true; evaluate(obj: unknown): string } | { ok: false; message: string };

type Step =
  | { kind: "field"; name: string }
  | { kind: "children" }
  | { kind: "descendants" }
  | { kind: "index"; index: number | "all" };

interface Parsed {
  steps: Step[];
  end: number;
}

export function compileJsonPath(key: string): CompiledJsonPath {
  if (key === "") return { ok: false, message: "the key is empty" };
  const steps = parseAction("." + key);
  if (typeof steps === "string") return { ok: false, message: steps };
  return { ok: true, evaluate: (obj) => evaluate(steps, obj).map(print).join(" ") };
}

/** The steps of the text inside "{...}", or why it does not parse. */
function parseAction(text: string): Step[] | string {
  const steps: Step[] = [];
  for (let i = 0; i < text.length;) {
    const parsed = parseStep(text, i, steps.at(-1));
    if (typeof parsed === "string") return parsed;
    steps.push(...parsed.steps);
    i = parsed.end;
  }
  return steps;
}

function parseStep(text: string, i: number, previous: Step | undefined): Parsed | string {
  if (text.startsWith("..", i)) return parseDescendants(text, i + 2, previous);
  if (text.startsWith("[?(", i)) return "filters [?(...)] are not supported";
  const c = text.charAt(i);
  if (c === ".") return parseField(text, i + 1);
  if (c === "[") return parseBracket(text, i);
  if (c === " " || c === "@" || c === "$") return { steps: [], end: i + 1 };
  if (c === "}") return `"}" is only supported inside a name, escaped as \\}`;
  if (c === "'" || c === '"') return "quoted text is only supported as ['name']";
  if (/^[\p{L}\p{Nd}_+-]$/u.test(c)) {
    return `unexpected ${JSON.stringify(c)}: a name must follow "." (literals, range and end are not supported)`;
  }
  return `unexpected character ${JSON.stringify(c)}`;
}

function parseDescendants(text: string, end: number, previous: Step | undefined): Parsed | string {
  if (previous?.kind === "descendants") return `".." cannot follow ".."`;
  if (end === text.length) return `".." must be followed by a field name`;
  const descendants: Step = { kind: "descendants" };
  if (!/^[\p{L}\p{Nd}_]$/u.test(text.charAt(end))) return { steps: [descendants], end };
  const field = parseField(text, end);
  return typeof field === "string" ? field : { steps: [descendants, ...field.steps], end: field.end };
}

const FIELD_END = new Set([" ", "\t", "\r", "\n", ".", ",", "[", "]", "$", "@", "{", "}"]);

function parseField(text: string, start: number): Parsed | string {
  let end = start;
  while (end < text.length && !FIELD_END.has(text.charAt(end))) end += text.charAt(end) === "\\" ? 2 : 1;
  end = Math.min(end, text.length);
  const raw = text.slice(start, end);
  if (raw === "*") return { steps: [{ kind: "children" }], end };
  const name = raw.replaceAll("\\", "");
  if (name === "") return `a field name is empty (a "." must be followed by a name)`;
  return { steps: [{ kind: "field", name }], end };
}

function parseBracket(text: string, open: number): Parsed | string {
  const match = /^\[([^\]\n]*)\]/.exec(text.slice(open));
  if (match === null) return `"[" is not closed by "]"`;
  const inner = match[1] ?? "";
  const end = open + match[0].length;
  if (inner === "*") return { steps: [{ kind: "index", index: "all" }], end };
  if (inner.includes(",")) return "unions [a,b] are not supported";
  const quoted = /^'([^']*)'$/.exec(inner);
  if (quoted !== null) {
    const steps = parseAction("." + (quoted[1] ?? ""));
    return typeof steps === "string" ? steps : { steps, end };
  }
  if (/^-?\d+$/.test(inner) && Number.isSafeInteger(Number(inner))) {
    return { steps: [{ kind: "index", index: Number(inner) }], end };
  }
  if (/^-?\d*(:-?\d*){1,2}$/.test(inner)) return "slices [a:b] are not supported";
  return `invalid index [${inner}]: use [n], [*] or ['name']`;
}

function evaluate(steps: readonly Step[], root: unknown): unknown[] {
  let values: unknown[] = [root];
  for (const step of steps) {
    const next = apply(
      step,
      values.filter((v) => v !== null && v !== undefined),
    );
    if (next === undefined) return [];
    values = next;
  }
  return values;
}

/** undefined where client-go reports an execution error. */
function apply(step: Step, values: unknown[]): unknown[] | undefined {
  switch (step.kind) {
    case "field":
      return values.flatMap((v) => (isJsonObject(v) && Object.hasOwn(v, step.name) ? [v[step.name]] : []));
    case "children":
      return values.flatMap(children);
    case "descendants":
      return values.flatMap(descendants);
    case "index":
      return index(values, step.index);
  }
}

function index(values: unknown[], at: number | "all"): unknown[] | undefined {
  const picked: unknown[] = [];
  for (const value of values) {
    if (!Array.isArray(value)) return undefined;
    if (at === "all") {
      picked.push(...value);
      continue;
    }
    const i = at < 0 ? at + value.length : at;
    if (i < 0 || i >= value.length) return undefined;
    picked.push(value[i]);
  }
  return picked;
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return isJsonObject(value) ? sortedKeys(value).map((k) => value[k]) : [];
}

/** The value and everything below it that has children, depth first, as client-go's "..". */
function descendants(value: unknown): unknown[] {
  const below = children(value);
  return below.length === 0 ? [] : [value, ...below.flatMap(descendants)];
}

function print(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return goFloat(value);
  if (typeof value === "boolean") return String(value);
  if (value === null || value === undefined) return "<nil>";
  return goJson(value);
}

/** Go's fmt %v of a float64: the shortest digits, with an exponent below 1e-4 and from 1e6 on. */
function goFloat(n: number): string {
  const [mantissa, exponentText] = n.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 6) return String(n);
  return `${mantissa}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
}

/** Go's encoding/json: sorted keys, and <, >, &, U+2028 and U+2029 escaped. */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
  if (isJsonObject(value))
    return `{${sortedKeys(value)
      .map((k) => `${goString(k)}:${goJson(value[k])}`)
      .join(",")}}`;
  if (typeof value === "string") return goString(value);
  return JSON.stringify(value) ?? "null";
}

function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Go sorts map keys by their UTF-8 bytes. */
function sortedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
