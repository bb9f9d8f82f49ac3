import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startCheckpointer } from './checkpointer.js';
import { openDatabase, type DB } from './open-database.js';

let dir: string;
let db: DB;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
  db = openDatabase(join(dir, 'app.db'));
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('copies the WAL into the database file from its worker, and hands checkpoints back on stop', async () => {
  const cp = startCheckpointer(db, { intervalMs: 20 })!;
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  const dbFile = join(dir, 'app.db');
  const before = statSync(dbFile).size;
  db.exec('CREATE TABLE t (x TEXT)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < 50; i++) db.transaction(() => insert.run('看车试驾'.repeat(200)))();
  // Pages reach the main file only through a checkpoint, and nobody on this thread ran one.
  await until(() => statSync(dbFile).size > before + 100_000, 3_000, 'the worker’s checkpoint');
  await cp.stop();
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  await cp.stop(); // a second stop returns at once
});

it('does nothing for an in-memory database or a zero interval', () => {
  const mem = openDatabase(':memory:');
  expect(startCheckpointer(mem, { intervalMs: 50 })).toBeNull();
  mem.close();
  expect(startCheckpointer(db, { intervalMs: 0 })).toBeNull();
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
});
