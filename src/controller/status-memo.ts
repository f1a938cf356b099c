// The status this controller last wrote to each object, until its cache has caught up with that
// write. A reconcile that runs before the watch delivers the write compares with what was written,
// not with the stale cache, so one transition is never written (nor its Event recorded) twice.

export type StatusMemo<S> = ReturnType<typeof createStatusMemo<S>>;

export function createStatusMemo<S>() {
  const written = new Map<string, { resourceVersion: string; status: S }>();
  return {
    /** The status to compare with: the one written, while the cache is older than that write. */
    current(key: string, cachedVersion: string, cached: S): S {
      const memo = written.get(key);
      if (memo === undefined) return cached;
      if (!olderThan(cachedVersion, memo.resourceVersion)) {
        written.delete(key);
        return cached;
      }
      return memo.status;
    },
    /** Records a status write that the server answered with this resourceVersion. */
    wrote(key: string, resourceVersion: string | undefined, status: S) {
      if (resourceVersion) written.set(key, { resourceVersion, status });
    },
    forget(key: string) {
      written.delete(key);
    },
    size: () => written.size,
  };
}

// resourceVersions are etcd revisions (decimal integers); anything else is taken as caught up, so
// a memo never outlives the write it stands for.
function olderThan(cached: string, written: string): boolean {
  const decimal = /^\d+$/;
  return decimal.test(cached) && decimal.test(written) && BigInt(cached) < BigInt(written);
}
