/**
 * Deliveries this close to the first one of a request are that same request: a wrapper (npm, tsx)
 * relays the signal it got itself, and a terminal or `kill -- -PGID` signals every process of the group.
 */
export const SAME_REQUEST_MS = 250;

export interface ShutdownSignalHandlers {
  /** The first request: shut down gracefully. */
  shutdown(signal: NodeJS.Signals): void;
  /** The second request: the shutdown goes on (one more request forces the exit). */
  again(signal: NodeJS.Signals): void;
  /** The third request: exit now. */
  force(signal: NodeJS.Signals): void;
}

/**
 * SIGINT and SIGTERM as shutdown requests: the first shuts down gracefully, a second never cuts that
 * short, a third forces the exit. Listeners stay installed, so no delivery falls back to the default
 * action (which would kill the process mid-shutdown). Returns a function that removes them.
 */
export function onShutdownSignals(
  handlers: ShutdownSignalHandlers,
  target: NodeJS.EventEmitter = process,
  now: () => number = () => performance.now(),
): () => void {
  let requests = 0;
  let since = -Infinity;
  const listener = (signal: NodeJS.Signals) => {
    const at = now();
    if (at - since < SAME_REQUEST_MS) return;
    since = at;
    requests++;
    if (requests === 1) handlers.shutdown(signal);
    else if (requests === 2) handlers.again(signal);
    else handlers.force(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of signals) target.on(s, listener);
  return () => {
    for (const s of signals) target.off(s, listener);
  };
}
