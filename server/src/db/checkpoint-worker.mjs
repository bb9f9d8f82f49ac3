// Plain JS so it loads as a worker under tsx, vitest and node alike.
// Copies the WAL into the database file on its own connection: the page copies and the fsync that
// checkpoints need never hold up the server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs, restartPages } = workerData;
const db = new Database(path);
db.pragma('busy_timeout = 5000');

function checkpoint(mode) {
  try {
    const [r] = db.pragma(`wal_checkpoint(${mode})`);
    // A WAL that never got fully copied (writes landed during every pass) is reset once it is large.
    if (mode === 'PASSIVE' && r.log > restartPages && r.checkpointed < r.log) checkpoint('RESTART');
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  }
}

const timer = setInterval(() => checkpoint('PASSIVE'), intervalMs);
parentPort.on('message', (msg) => {
  if (msg !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
