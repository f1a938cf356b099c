// The tables `npm run bench` prints.

export interface Row {
  /** Placeholders in the cluster during the scenario. */
  n: number;
  scenario: string;
  config: string;
  timeMs?: number;
  /** The limit scenario's time for the same number of writes at the same concurrency. */
  limitMs?: number;
  writes?: number;
  /** Placeholders and exports whose resourceVersion changed: the writes that were needed. */
  placeholderChanges?: number;
  exportChanges?: number;
  cpuMs?: number;
  /** CPU time kube-apiserver and etcd used meanwhile. */
  planeCpuMs?: number;
  rssMb?: number;
  notes?: string;
}

const COLUMNS: [string, (r: Row) => string][] = [
  ["N", (r) => String(r.n)],
  ["scenario", (r) => r.scenario],
  ["config", (r) => r.config],
  ["time", (r) => seconds(r.timeMs)],
  ["limit", (r) => seconds(r.limitMs)],
  ["x limit", (r) => (r.timeMs !== undefined && r.limitMs ? (r.timeMs / r.limitMs).toFixed(2) : "")],
  ["writes", (r) => (r.writes === undefined ? "" : String(r.writes))],
  [
    "changed",
    (r) => (r.placeholderChanges === undefined ? "" : `${r.placeholderChanges}+${r.exportChanges ?? 0}`),
  ],
  [
    "extra",
    (r) =>
      r.writes === undefined || r.placeholderChanges === undefined
        ? ""
        : String(r.writes - r.placeholderChanges - (r.exportChanges ?? 0)),
  ],
  ["CPU", (r) => seconds(r.cpuMs)],
  ["plane CPU", (r) => seconds(r.planeCpuMs)],
  ["RSS MB", (r) => (r.rssMb === undefined ? "" : r.rssMb.toFixed(1))],
  ["notes", (r) => r.notes ?? ""],
];

export function printRows(rows: Row[]): string {
  return table(
    COLUMNS.map(([title]) => title),
    rows.map((row) => COLUMNS.map(([, cell]) => cell(row))),
  );
}

/** One line per N: how time and memory grow with the number of placeholders (medians). */
export function printSeries(summaries: Record<string, number>[]): string {
  const keys = Object.keys(summaries[0] ?? {});
  const title = (key: string) =>
    key
      .replace(/^namespaces$/, "N")
      .replace(/Ms( |$)/, "$1")
      .replace(/XLimit/, " x limit")
      .replace(/Mb$/, " MB");
  const cell = (value: number | undefined, key: string) =>
    value === undefined || !Number.isFinite(value)
      ? ""
      : key.includes("Ms")
        ? seconds(value)
        : key.includes("XLimit")
          ? value.toFixed(2)
          : key.endsWith("Mb")
            ? value.toFixed(1)
            : String(value);
  return `\ngrowth with placeholders\n${table(
    keys.map(title),
    summaries.map((s) => keys.map((k) => cell(s[k], k))),
  )}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export const seconds = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms)
    ? ""
    : ms < 10_000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${(ms / 1000).toFixed(1)} s`;
