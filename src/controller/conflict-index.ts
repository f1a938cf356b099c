// Which exports are currently rejected in which placeholders, as the last reconcile of each
// placeholder found it. Export status reads it; a placeholder reconcile that changes it tells which
// exports must report again. Rebuilt by the placeholder reconciles that run at every start.
import type { Conflict } from "../core/placeholder.ts";

export type ConflictIndex = ReturnType<typeof createConflictIndex>;

export function createConflictIndex() {
  const byPlaceholder = new Map<string, Conflict[]>();
  const byExport = new Map<string, Set<string>>();

  const exportsOf = (conflicts: Conflict[] | undefined) =>
    new Set(conflicts?.flatMap((c) => c.exports) ?? []);
  /** What `of` reads for an export from one placeholder's conflicts. */
  const involvement = (conflicts: Conflict[] | undefined, exportKey: string) =>
    JSON.stringify(
      conflicts
        ?.filter((c) => c.exports.includes(exportKey))
        .map((c) => c.registry)
        .sort() ?? [],
    );

  return {
    /** Records a placeholder's conflicts; returns the exports whose involvement changed. */
    set(placeholderKey: string, conflicts: Conflict[]): string[] {
      const before = byPlaceholder.get(placeholderKey);
      if (JSON.stringify(before ?? []) === JSON.stringify(conflicts)) return [];
      const previous = exportsOf(before);
      const next = exportsOf(conflicts);
      if (conflicts.length > 0) byPlaceholder.set(placeholderKey, conflicts);
      else byPlaceholder.delete(placeholderKey);
      for (const exportKey of previous) {
        const keys = byExport.get(exportKey);
        if (next.has(exportKey) || keys === undefined) continue;
        keys.delete(placeholderKey);
        if (keys.size === 0) byExport.delete(exportKey);
      }
      for (const exportKey of next) {
        const keys = byExport.get(exportKey) ?? new Set<string>();
        byExport.set(exportKey, keys.add(placeholderKey));
      }
      return [...new Set([...previous, ...next])].filter(
        (exportKey) => involvement(before, exportKey) !== involvement(conflicts, exportKey),
      );
    },

    /** Entries held, per internal map (for tests that prove nothing is left behind). */
    sizes: () => ({ byPlaceholder: byPlaceholder.size, byExport: byExport.size }),

    /** Registries rejected as conflicts, summed over placeholders. */
    total: () => [...byPlaceholder.values()].reduce((sum, conflicts) => sum + conflicts.length, 0),

    /** The registries of an export rejected as conflicts, with the namespace of each placeholder. */
    of(exportKey: string): { registry: string; namespace: string }[] {
      return [...(byExport.get(exportKey) ?? [])].flatMap((placeholderKey) => {
        const [namespace = ""] = placeholderKey.split("/", 1);
        return (byPlaceholder.get(placeholderKey) ?? [])
          .filter((c) => c.exports.includes(exportKey))
          .map((c) => ({ registry: c.registry, namespace }));
      });
    },
  };
}
