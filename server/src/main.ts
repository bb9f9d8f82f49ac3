import { constants } from 'node:os';
import { onShutdownSignals } from './shutdown-signals.js';
import { startServer } from './start-server.js';

try {
  const s = await startServer();
  const { log, model } = s.ctx;
  log.info({ url: s.url, model }, `event stream server listening on ${s.url}`);
  onShutdownSignals({
    shutdown(signal) {
      log.info({ signal }, 'shutting down');
      s.close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    },
    again(signal) {
      log.warn({ signal }, 'still shutting down; a third signal forces the exit');
    },
    force(signal) {
      log.error({ signal }, 'forced exit before the shutdown finished; running runs come back interrupted');
      process.exit(128 + constants.signals[signal]);
    },
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
