// Backoff for writing the same content to an object again. When another client keeps changing what
// the controller owns (a placeholder's data, an imported copy), each change is an event and each
// event would otherwise be answered at once by a write: a fight as fast as the other client writes.
// Writing new content is never held back; writing again what was already written, because someone
// changed it since, waits 1 s, 2 s, 4 s, ... after the previous write, up to maxMs. A rewrite long
// after the previous write (a one-off edit) is restored at once.
import { createHash } from "node:crypto";
import { type Clock, realClock } from "./work-queue.ts";

export interface RewriteBackoffOptions {
  baseMs?: number;
  maxMs?: number;
  clock?: Pick<Clock, "now">;
  /** Called each time a write is held back (for a metric). */
  onDelay?: () => void;
}

export interface RewriteBackoff {
  /** How long to wait before writing `content` to `key`: 0 unless that is what was last written there. */
  delay(key: string, content: string): number;
  /** Records a successful write of `content` to `key`. */
  wrote(key: string, content: string): void;
  /** Forgets `key`, whose object is gone. */
  forget(key: string): void;
}

export function createRewriteBackoff({
  baseMs = 1_000,
  maxMs = 30_000,
  clock = realClock,
  onDelay = () => {},
}: RewriteBackoffOptions = {}): RewriteBackoff {
  /** Per key: a digest of the content last written, when, and how many rewrites of it in a row. */
  const written = new Map<string, { digest: string; at: number; rewrites: number }>();
  const digest = (content: string) => createHash("sha256").update(content).digest("base64");

  return {
    delay(key, content) {
      const last = written.get(key);
      if (last === undefined || last.digest !== digest(content)) return 0;
      const wait = Math.max(0, last.at + Math.min(maxMs, baseMs * 2 ** last.rewrites) - clock.now());
      if (wait > 0) onDelay();
      return wait;
    },
    wrote(key, content) {
      const last = written.get(key);
      const now = clock.now();
      const current = digest(content);
      const again = last?.digest === current && now - last.at <= maxMs;
      written.set(key, { digest: current, at: now, rewrites: again ? last.rewrites + 1 : 0 });
    },
    forget(key) {
      written.delete(key);
    },
  };
}
