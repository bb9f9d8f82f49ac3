import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImportBusyError } from './import-staging.js';
import { openDatabase, type DB } from './open-database.js';
import { UsersRepo } from './users-repo.js';

const behaviour = (id: string, userId: string) => ({
  id,
  userId,
  ts: '2026-01-05 10:00',
  action: '看车',
  object: '小米SU7',
  channel: 'store',
  detail: null,
});

let db: DB;
let repo: UsersRepo;
const rowsOf = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

beforeEach(async () => {
  db = openDatabase(':memory:');
  repo = new UsersRepo(db);
  await repo.upsertAll(
    [{ id: 'old', name: '李女士', profile: { city: '北京' } }],
    [behaviour('old-1', 'old')],
  );
});
afterEach(() => db.close());

/** Stages a new user with one behaviour, and a new name for `old`, without publishing. */
function stageSome(): number {
  const id = repo.imports.begin();
  repo.imports.write(
    id,
    'users',
    JSON.stringify([
      { id: 'new', name: '王先生', profile: { city: '上海' } },
      { id: 'old', name: '李老师', profile: {} },
    ]),
  );
  repo.imports.write(
    id,
    'behaviours',
    JSON.stringify([behaviour('new-1', 'new'), behaviour('old-2', 'old')]),
  );
  return id;
}

describe('import staging', () => {
  it('hides every row of an import from every reader until it publishes, then shows them at once', async () => {
    const id = stageSome();
    expect(await repo.get('new')).toBeNull();
    expect(await repo.get('old')).toEqual({ id: 'old', name: '李女士', profile: { city: '北京' } });
    expect((await repo.behaviours('old')).map((b) => b.id)).toEqual(['old-1']);
    expect(await repo.behaviourOwnerOf('new-1')).toBeNull();
    expect(await repo.count()).toBe(1);
    expect(await repo.list({ limit: 10, offset: 0 })).toMatchObject({
      total: 1,
      items: [{ behaviourCount: 1 }],
    });
    expect((await repo.list({ q: '上海', limit: 10, offset: 0 })).total).toBe(0);

    repo.imports.publish(id, { users: 2, behaviours: 2 });
    expect(await repo.get('new')).toEqual({ id: 'new', name: '王先生', profile: { city: '上海' } });
    expect(await repo.get('old')).toEqual({ id: 'old', name: '李老师', profile: { city: '北京' } });
    expect((await repo.behaviours('old')).map((b) => b.id)).toEqual(['old-1', 'old-2']);
    expect(await repo.count()).toBe(2);
    expect((await repo.list({ q: '上海', limit: 10, offset: 0 })).total).toBe(1);
    expect((await repo.list({ q: '李老师', limit: 10, offset: 0 })).total).toBe(1);
  });

  it('moves a published name change into the user row later, the same to readers before and after', async () => {
    const id = stageSome();
    repo.imports.publish(id, { users: 2, behaviours: 2 });
    const stored = db.prepare("SELECT name, profile FROM users WHERE id = 'old'");
    // Publishing flipped one row; the change is still a row of its own, shown through the view.
    expect(stored.get()).toEqual({ name: '李女士', profile: '{"city":"北京"}' });
    expect(rowsOf('import_user_updates')).toBe(1);
    // A process that stopped here (a crash) leaves it to the next start.
    const restarted = new UsersRepo(db);
    expect(stored.get()).toEqual({ name: '李老师', profile: '{"city":"北京"}' });
    expect(rowsOf('import_user_updates')).toBe(0);
    expect(await restarted.get('old')).toEqual({ id: 'old', name: '李老师', profile: { city: '北京' } });
  });

  it('lets one import be written at a time', async () => {
    const id = stageSome();
    expect(() => repo.imports.begin()).toThrow(ImportBusyError);
    repo.imports.abandon(id);
    // Being cleaned up still counts: its hidden rows would collide with the next import's.
    expect(() => repo.imports.begin()).toThrow(ImportBusyError);
    while (repo.imports.sweepStep(1)) {
      // one row per step
    }
    expect(repo.imports.begin()).toBeGreaterThan(id);
  });

  it('sweeps an import whose process stopped beating, on the next start, leaving what was there before', async () => {
    const id = stageSome();
    // What a crash leaves: the import's row still staging, its heartbeat getting old.
    db.prepare('UPDATE imports SET heartbeat_at = 0 WHERE id = ?').run(id);
    const restarted = new UsersRepo(db);
    expect(rowsOf('imports')).toBe(0);
    expect(rowsOf('import_user_updates')).toBe(0);
    expect(rowsOf('users')).toBe(1);
    expect(rowsOf('behaviours')).toBe(1);
    expect(await restarted.get('old')).toEqual({ id: 'old', name: '李女士', profile: { city: '北京' } });
    // Its ids are free again, and a stale import never blocks the next one.
    expect(restarted.imports.begin()).toBeGreaterThan(id);
  });

  it('never publishes an import another process has taken over for cleanup', async () => {
    const id = stageSome();
    db.prepare('UPDATE imports SET heartbeat_at = 0 WHERE id = ?').run(id);
    expect(repo.imports.sweepStep(1)).toBe(true);
    expect(() => repo.imports.publish(id, { users: 2, behaviours: 2 })).toThrow(/discarded/);
    expect(() => repo.imports.write(id, 'mentioned', '["x"]')).toThrow(/discarded/);
    repo.imports.sweepAll();
    expect(rowsOf('behaviours')).toBe(1);
    expect(await repo.get('new')).toBeNull();
  });
});
