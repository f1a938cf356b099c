// The human form of an Explanation: plain text, every line at most `width` columns (80 by default).
// Long lines are wrapped at spaces; a word longer than a line is cut; commands are wrapped with a
// shell line continuation so that they can be pasted as they are. Pure.
import { SECRET_TYPE_DOCKER_CONFIG_JSON } from "../constants.ts";
import type {
  ConflictExplanation,
  CopyState,
  ExportExplanation,
  Explanation,
  NotReachingExport,
  PlaceholderExplanation,
  ReachingExport,
  RegistryExplanation,
} from "./explain.ts";

export function renderText(explanation: Explanation, width = 80): string {
  const out = new Output(width);
  renderNamespace(out, explanation);
  renderExports(out, explanation);
  renderPlaceholders(out, explanation);
  renderImports(out, explanation);
  return out.text();
}

class Output {
  readonly #lines: string[] = [];
  readonly #width: number;
  constructor(width: number) {
    this.#width = Math.max(width, 20);
  }
  /** A paragraph starting at `indent`, continued at `hanging`. */
  line(text: string, indent = 0, hanging = indent + 2): void {
    this.#lines.push(...wrap(text, this.#width, indent, hanging));
  }
  command(text: string, indent: number): void {
    this.#lines.push(...wrapCommand(text, this.#width, indent));
  }
  blank(): void {
    if (this.#lines.length > 0 && this.#lines.at(-1) !== "") this.#lines.push("");
  }
  text(): string {
    while (this.#lines.at(-1) === "") this.#lines.pop();
    return this.#lines.join("\n") + "\n";
  }
}

function renderNamespace(out: Output, { namespace, notes }: Explanation): void {
  if (!namespace.exists) {
    out.line(`Namespace ${namespace.name} (does not exist)`);
  } else {
    out.line(`Namespace ${namespace.name}${namespace.terminating ? " (being deleted)" : ""}`);
    const labels = Object.entries(namespace.labels).map(([key, value]) => `${key}=${value}`);
    out.line(`labels: ${labels.length > 0 ? labels.join(", ") : "none"}`, 2, 4);
    if (namespace.excludedFromWildcardMatching) {
      out.line("excluded from wildcard matching: globs do not reach it", 2, 4);
    }
  }
  for (const note of notes) out.line(`note: ${note}`, 2, 4);
}

const RULES: Record<ReachingExport["rule"], string> = {
  exactName: "exact name",
  glob: "glob",
  labelSelector: "label selector",
  jsonPathSelector: "JSONPath selector",
};

function renderExports(out: Output, { namespace, exports }: Explanation): void {
  const reaching = exports.filter((e): e is ReachingExport => e.reached);
  const others = exports.filter((e): e is NotReachingExport => !e.reached);
  out.blank();
  if (reaching.length === 0) {
    out.line(`No export reaches ${namespace.name} (${count(exports.length, "export")} in the cluster).`);
  } else {
    out.line(`Exports reaching ${namespace.name} (${reaching.length} of ${exports.length}):`);
    for (const e of reaching) renderReaching(out, e);
  }
  if (others.length > 0) {
    out.blank();
    out.line(`Exports not reaching ${namespace.name} (${others.length}):`);
    for (const e of others) {
      out.line(`${e.export}${weight(e)}`, 2, 6);
      out.line(notReachingText(e), 4, 6);
      for (const p of e.problems) out.line(`- ${p.field}: ${p.message}`, 6, 8);
    }
  }
}

function renderReaching(out: Output, e: ReachingExport): void {
  out.line(`${e.export}${weight(e)}`, 2, 6);
  out.line(`by ${RULES[e.rule]}: ${e.detail}`, 4, 6);
  const { source } = e;
  let text: string;
  if (!source.exists) {
    text = "the Secret does not exist: it offers nothing";
  } else if (!e.placeholderCandidate) {
    text = `type ${source.type}, not ${SECRET_TYPE_DOCKER_CONFIG_JSON}: placeholders get nothing from it (a SecretImport can copy it)`;
  } else if (source.unreadable !== null) {
    text = `unreadable (${source.unreadable}): placeholders keep the registries it provided until it is fixed`;
  } else {
    text = source.registries.length > 0 ? `registries ${source.registries.join(", ")}` : "no registries";
    if (source.skipped.length > 0) text += `; skipped, without credentials: ${source.skipped.join(", ")}`;
    const generated = source.registryCredential;
    if (generated !== null) {
      const until = generated.expiresAt === null ? "does not expire" : `expires ${generated.expiresAt}`;
      text += `; kept fresh by RegistryCredential ${e.export}, ${until}`;
    }
  }
  out.line(`source: ${text}`, 4, 6);
}

function notReachingText(e: NotReachingExport): string {
  switch (e.reason) {
    case "invalidSpec":
      return `invalid spec, so it reaches no namespace${e.problems.length > 0 ? ":" : ""}`;
    case "excludedFromWildcardMatching":
      return `excluded from wildcard matching: ${e.detail}`;
    default:
      return e.detail;
  }
}

const weight = (e: ExportExplanation) => (e.weight !== 0 ? ` (weight ${e.weight})` : "");

function renderPlaceholders(out: Output, { namespace, placeholders, secret }: Explanation): void {
  out.blank();
  if (placeholders.length === 0) {
    if (secret === null) out.line(`No placeholder in ${namespace.name}.`);
    return;
  }
  for (const p of placeholders) {
    out.blank();
    out.line(`Placeholder ${namespace.name}/${p.name}: ${syncText(p)}`);
    if (p.problem !== null) out.line(`problem: ${p.problem}`, 2, 4);
    if (p.type === SECRET_TYPE_DOCKER_CONFIG_JSON && p.sync !== "notReconciled") {
      renderFill(out, p);
    }
    out.line(`status: ${p.condition.type}`, 2, 4);
  }
}

function syncText(p: PlaceholderExplanation): string {
  switch (p.sync) {
    case "inSync":
      return "in sync";
    case "willBeRewritten":
      return `will be rewritten (${p.changes.join(" and ")})`;
    case "notReconciled":
      return "not reconciled";
  }
}

function renderFill(out: Output, p: PlaceholderExplanation): void {
  if (p.candidates.length > 0) {
    const list = p.candidates.map((c) => c.export).join(", ");
    out.line(`candidates, least to most preferred: ${list}`, 2, 4);
  }
  if (p.registries.length === 0) {
    out.line("registries: none", 2, 4);
  } else {
    out.line("registries:", 2);
    for (const r of p.registries) out.line(`${r.registry} from ${r.export} (${choiceText(r)})`, 4, 8);
  }
  for (const c of p.conflicts) renderConflict(out, c);
  for (const u of p.unreadableSources) {
    out.line(`unreadable source ${u.export}: ${u.message}`, 2, 4);
  }
  for (const s of p.skipped) {
    out.line(`skipped, without credentials: ${s.registries.join(", ")} from ${s.export}`, 2, 4);
  }
}

function choiceText(r: RegistryExplanation): string {
  const offers = r.offeredBy.length;
  switch (r.choice) {
    case "onlyOffer":
      return "the only offer";
    case "identicalCredentials":
      return `${offers} offers, all the same credentials`;
    case "highestWeight":
      return `highest weight among ${offers} offers`;
    case "keptDuringConflict":
      return "current entry kept during the conflict below";
    case "keptWhileSourceUnreadable":
      return "current entry kept while its source is unreadable";
  }
}

function renderConflict(out: Output, c: ConflictExplanation): void {
  const who = c.exports.length === 1 ? (c.exports[0] ?? "") : c.exports.join(", ");
  out.line(`CONFLICT on ${c.registry}: different credentials from ${who} (weight ${c.weight})`, 2, 4);
  out.line(
    c.kept === null
      ? `${c.registry} is left out of the placeholder`
      : `the placeholder keeps its current entry ${c.kept.registry} from ${c.kept.export}`,
    4,
    6,
  );
  out.line(`to resolve: ${c.resolution}`, 4, 6);
  if (c.commands.length > 0) out.line("to set the weight, run the one for the export that should win:", 4, 6);
  for (const command of c.commands) out.command(command, 6);
}

function renderImports(out: Output, { namespace, imports, secret }: Explanation): void {
  out.blank();
  if (imports.length === 0) {
    if (secret === null) out.line(`No SecretImport in ${namespace.name}.`);
    return;
  }
  for (const i of imports) {
    out.blank();
    const from = i.fromNamespace === null ? "" : ` from ${i.fromNamespace}`;
    const state = i.satisfied ? "satisfied" : "NOT satisfied";
    out.line(`Import ${namespace.name}/${i.name}${from}: ${state} (${i.reason})`);
    out.line(i.why ?? i.message, 2, 4);
    out.line(`copy: ${COPY[i.copy]}`, 2, 4);
  }
}

const COPY: Record<CopyState, string> = {
  inSync: "in sync",
  willBeCreated: "will be created",
  willBeUpdated: "will be updated",
  willBeReplaced: "will be replaced (its type changed)",
  willBeDeleted: "will be deleted",
  notOurs: "a Secret this import does not control has its name; it is left alone",
  absent: "none",
};

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** Word-wraps text (multi-line text paragraph by paragraph) to lines of at most width columns. */
export function wrap(text: string, width: number, indent = 0, hanging = indent): string[] {
  return text
    .split("\n")
    .flatMap((paragraph, i) => wrapParagraph(paragraph, width, i === 0 ? indent : hanging, hanging));
}

function wrapParagraph(text: string, width: number, indent: number, hanging: number): string[] {
  const lines: string[] = [];
  let line = " ".repeat(indent);
  let empty = true;
  const room = () => width - line.length;
  const flush = () => {
    lines.push(line.trimEnd());
    line = " ".repeat(hanging);
    empty = true;
  };
  for (const word of text.split(" ").filter((w) => w !== "")) {
    const needed = empty ? word.length : word.length + 1;
    if (!empty && needed > room()) flush();
    let rest = word;
    // A word longer than a whole line is cut.
    while (rest.length > room() && rest.length > width - hanging) {
      if (!empty) flush();
      const cut = Math.max(room(), 1);
      line += rest.slice(0, cut);
      rest = rest.slice(cut);
      empty = false;
      flush();
    }
    if (rest === "") continue;
    line += empty ? rest : ` ${rest}`;
    empty = false;
  }
  if (!empty || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** A shell command over several lines, each but the last ending in " \". */
export function wrapCommand(command: string, width: number, indent: number): string[] {
  const continued = wrap(command, width - 2, indent, indent + 4);
  return continued.map((line, i) => (i < continued.length - 1 ? `${line} \\` : line));
}
