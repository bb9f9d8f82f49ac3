import { startServer } from './start-server.js';

try {
  const s = await startServer();
  const { log, model } = s.ctx;
  log.info({ url: s.url, model }, `event stream server listening on ${s.url}`);
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    s.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
