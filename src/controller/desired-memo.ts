// Placeholders with the same candidates (one shared list, from state.candidatesFor) holding the same
// content get the same decision, so a fan-out decides once per candidate set and content instead of
// once per placeholder. The results are shared: nobody may change them.
import {
  type Candidate,
  desiredPlaceholder,
  type PlaceholderInput,
  type PlaceholderResult,
} from "../core/placeholder.ts";

/** Contents remembered per candidate list: a fan-out sees two (empty, then filled), a conflict a few more. */
const CONTENTS_PER_LIST = 8;

export type DesiredPlaceholder = (input: PlaceholderInput) => PlaceholderResult;

export function memoisedDesiredPlaceholder(): DesiredPlaceholder {
  const memo = new WeakMap<readonly Candidate[], Map<string, PlaceholderResult>>();
  return (input) => {
    let byContent = memo.get(input.candidates);
    if (byContent === undefined) memo.set(input.candidates, (byContent = new Map()));
    const key = `${contentKey(input.currentStatus)}\0${contentKey(input.currentConfig)}`;
    const known = byContent.get(key);
    if (known !== undefined) return known;
    if (byContent.size >= CONTENTS_PER_LIST) byContent.clear();
    const desired = desiredPlaceholder(input);
    byContent.set(key, desired);
    return desired;
  };
}

/** Tells a missing value from an empty one. */
const contentKey = (value: string | undefined) => (value === undefined ? "-" : `+${value}`);
