// The one interface every scenario implements: given the cluster at this round's size, measure,
// and return table rows, JSON for the results file, and the medians for the per-N series table.
import type { Context, Round } from "./context.ts";
import type { Row } from "./report.ts";

export interface Scenario {
  /** What `--scenario NAME` selects. */
  name: string;
  run(ctx: Context, round: Round): Promise<ScenarioResult>;
}

export interface ScenarioResult {
  rows: Row[];
  json: Record<string, unknown>;
  /** Cells of the per-N series table (medians), merged over the round's scenarios. */
  summary: Record<string, number>;
}
