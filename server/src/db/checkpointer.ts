import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { DB } from './open-database.js';

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the event loop: the main connection stops checkpointing on commit and a
 * worker thread checkpoints every `intervalMs` instead (PASSIVE, so it never blocks a commit; a RESTART
 * only when the WAL has grown past `restartPages` without ever being fully copied).
 */
export function startCheckpointer(
  db: DB,
  opts: { intervalMs: number; restartPages?: number; onError?: (msg: string) => void },
): Checkpointer | null {
  if (db.memory || opts.intervalMs <= 0) return null;
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), {
    workerData: { path: db.name, intervalMs: opts.intervalMs, restartPages: opts.restartPages ?? 16_384 },
  });
  worker.unref();
  let exited = false;
  // A worker that is gone hands checkpoints back to SQLite, so the WAL cannot grow without bound.
  const handBack = () => {
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('message', (m: { error?: string }) => m.error && opts.onError?.(m.error));
  worker.on('error', (err) => opts.onError?.(String(err)));
  worker.on('exit', () => {
    exited = true;
    handBack();
  });
  return {
    async stop() {
      if (exited) return;
      worker.ref(); // keep the process alive until the worker has closed its connection
      const gone = once(worker, 'exit');
      worker.postMessage('stop');
      await gone;
    },
  };
}
