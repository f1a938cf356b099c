/**
 * Resolves on the first SIGINT or SIGTERM, and keeps ignoring them afterwards: Ctrl-C reaches npm
 * and this process together, and npm exiting then sends the SIGTERM of with-node24.sh's pdeathsig.
 * Left to its default, that second signal would kill this process while it stops its children, and
 * they would be SIGKILLed (their own pdeathsig) instead of shutting down cleanly.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
  });
}
