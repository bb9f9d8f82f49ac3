import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importData, ImportBusyError } from '../../data/import-service.js';
import { openDatabase, type DB } from '../../db/open-database.js';
import { UsersRepo } from '../../db/users-repo.js';
import { startPostgres, type PgServer } from '../../test-support/pg-server.js';
import { USER_IDS, fillPg, fillSqlite, testPool } from '../../test-support/store-fixture.js';
import type { ImportSlice } from '../types.js';
import { PgImportTarget } from './pg-imports.js';
import { migratePg } from './pg-migrations.js';
import { PgUsersStore } from './pg-users.js';

let server: PgServer;
let db: DB;
let url: string;
let pool: pg.Pool;
let sqlite: UsersRepo;
let store: PgUsersStore;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  db = openDatabase(':memory:');
  fillSqlite(db);
  sqlite = new UsersRepo(db);
  url = await server.createDatabase();
  pool = testPool(url);
  await migratePg(pool);
  await fillPg(pool);
  store = new PgUsersStore(pool);
});
afterEach(async () => {
  db.close();
  await pool.end();
});

const b = (id: string, userId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    user_id: userId,
    ts: '2026-01-05 10:00',
    action: '看车',
    object: '小米SU7',
    channel: 'store',
    ...extra,
  });
const user = (id: string, name?: string, profile?: Record<string, unknown>) =>
  JSON.stringify({
    type: 'user',
    id,
    ...(name === undefined ? {} : { name }),
    ...(profile ? { profile } : {}),
  });
/** Over the size parsed in place, so these go through the worker, as bytes. */
const big = (row: (i: number) => string) => () =>
  new TextEncoder().encode(Array.from({ length: 3000 }, (_, i) => row(i)).join('\n'));

/** Import files, each run against the fixture in both databases, and whether each is written. */
const FILES: [string, () => string | Uint8Array, 'jsonl' | 'csv', boolean][] = [
  [
    'a good file',
    () =>
      [
        user('u1', '张老师', { city: '杭州' }),
        user('a.b', '王老师'),
        user('n1', '新用户', { 备注: '“引号”' }),
        b('n1-1', 'n1', { detail: '第一次\n到店' }),
        b('m1-1', 'm1'),
        b('U2-2', 'U2', { ts: '2026-01-05T11:00:00' }),
        b('ab-3', 'a.b'),
      ].join('\n'),
    'jsonl',
    true,
  ],
  [
    'a bad row',
    () => [user('n1', 'x'), b('n-1', 'n1'), b('n-2', 'n1', { ts: '2026-02-30 10:00' })].join('\n'),
    'jsonl',
    false,
  ],
  [
    'a taken id',
    () =>
      [
        'id,user_id,ts,action,object,channel',
        'x-1,u1,2026-01-05 10:00,看车,X,store',
        'u1-a,z9,2026-01-05 10:00,看车,X,store',
      ].join('\n'),
    'csv',
    false,
  ],
  ['a large file', big((i) => b(`big-${i}`, i % 2 ? 'big' : 'u1')), 'jsonl', true],
  [
    'a large file with a taken id late',
    big((i) => (i === 2500 ? b('ab-1', 'big') : b(`big-${i}`, 'big'))),
    'jsonl',
    false,
  ],
];

/** Every read of the users named, of both stores, must agree. */
async function sameReads(ids: string[]): Promise<void> {
  for (const id of ids) {
    expect(await store.get(id)).toStrictEqual(await sqlite.get(id));
    expect(await store.behaviours(id)).toStrictEqual(await sqlite.behaviours(id));
  }
  expect(await store.list({ limit: 50, offset: 0 })).toStrictEqual(
    await sqlite.list({ limit: 50, offset: 0 }),
  );
}

const allReleased = () => {
  expect(pool.totalCount).toBe(pool.idleCount);
  expect(pool.waitingCount).toBe(0);
};

const counts = async () =>
  (
    await pool.query<{ users: number; behaviours: number }>(
      'SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM behaviours) AS behaviours',
    )
  ).rows[0]!;

describe('importData into PostgreSQL', () => {
  for (const [name, body, format, written] of FILES) {
    it(`does what it does in SQLite with ${name}`, async () => {
      const expected = await importData(sqlite, body(), format);
      expect(expected.ok).toBe(written);
      expect(await importData(store, body(), format)).toStrictEqual(expected);
      await sameReads([...USER_IDS, 'n1', 'm1', 'big']);
      allReleased();
    });
  }

  it('keeps Chinese text as it is, not as \\u escapes', async () => {
    expect(await importData(store, FILES[0]![1](), 'jsonl')).toMatchObject({ ok: true });
    const { rows } = await pool.query(`SELECT name, profile FROM users WHERE id IN ('n1', 'u1') ORDER BY id`);
    expect(rows).toEqual([
      { name: '新用户', profile: '{"备注":"“引号”"}' },
      { name: '张老师', profile: '{"city":"杭州"}' },
    ]);
    const detail = await pool.query(`SELECT detail FROM behaviours WHERE id = 'n1-1'`);
    expect(detail.rows).toEqual([{ detail: '第一次\n到店' }]);
  });

  it('leaves nothing behind when a behaviour id is taken by someone else after it was checked', async () => {
    const before = await counts();
    /** Another writer takes `b-2` between the check of its slice and its write. */
    class RacingTarget extends PgImportTarget {
      override async existingBehaviours(slice: ImportSlice) {
        const found = await super.existingBehaviours(slice);
        await pool.query(
          `INSERT INTO behaviours (id, user_id, ts, action, object, channel) VALUES ('b-2', 'z9', 't', 'a', 'o', 'c')
           ON CONFLICT DO NOTHING`,
        );
        return found;
      }
    }
    class RacingStore extends PgUsersStore {
      override readonly imports = new RacingTarget(pool);
    }
    const text = [user('n1', '新'), b('b-1', 'n1'), b('b-2', 'n1'), b('b-3', 'm1')].join('\n');
    expect(await importData(new RacingStore(pool), text, 'jsonl')).toEqual({
      ok: false,
      errors: [{ line: 3, reason: 'behaviour id b-2 already exists (user z9)' }],
    });
    expect(await counts()).toEqual({ users: before.users, behaviours: before.behaviours + 1 });
    expect(await store.get('n1')).toBeNull();
    expect(await store.get('m1')).toBeNull();
    allReleased();
  });
});

describe('PgImportTarget', () => {
  it('shows nothing of an import until it publishes, then all of it', async () => {
    const target = store.imports;
    const id = await target.begin();
    await target.write(id, 'users', JSON.stringify([{ id: 'n1', name: '新', profile: {} }]));
    expect(await target.write(id, 'mentioned', new TextEncoder().encode('["m1","z9"]'))).toBe(1);
    await target.write(id, 'behaviours', JSON.stringify([JSON.parse(b('n1-1', 'n1'))].map(toBehaviour)));
    expect(await store.get('n1')).toBeNull();
    expect(await store.behaviourOwnerOf('n1-1')).toBeNull();
    expect(
      await target.existingBehaviours(JSON.stringify([{ id: 'x' }, { id: 'n1-1' }, { id: 'u1-a' }])),
    ).toEqual([{ i: 2, id: 'u1-a', userId: 'u1' }]);
    await target.publish(id);
    expect(await store.get('n1')).toStrictEqual({ id: 'n1', name: '新', profile: {} });
    expect(await store.get('m1')).toStrictEqual({ id: 'm1', name: null, profile: {} });
    expect(await store.behaviourOwnerOf('n1-1')).toBe('n1');
    expect(await target.sweepStep()).toBe(false);
    allReleased();
  });

  it('lets one import be written at a time, across instances, and frees the slot when one ends', async () => {
    const other = testPool(url);
    try {
      const here = store.imports;
      const there = new PgImportTarget(other);
      const id = await here.begin();
      await expect(here.begin()).rejects.toThrow(ImportBusyError);
      await expect(there.begin()).rejects.toThrow(ImportBusyError);
      await here.abandon(id);
      const next = await there.begin();
      expect(next).toBeGreaterThan(0);
      await expect(here.begin()).rejects.toThrow(ImportBusyError);
      await there.publish(next);
      await here.abandon(await here.begin());
      allReleased();
      expect(other.totalCount).toBe(other.idleCount);
    } finally {
      await other.end();
    }
  });

  it('rolls back an import whose statement failed, and tells a publish so', async () => {
    const before = await counts();
    const target = store.imports;
    const id = await target.begin();
    await target.write(id, 'users', JSON.stringify([{ id: 'n1', name: null, profile: {} }]));
    const dup = JSON.stringify([JSON.parse(b('u1-a', 'n1'))].map(toBehaviour));
    const err = await target.write(id, 'behaviours', dup).catch((e: unknown) => e);
    expect(target.isConflict(err)).toBe(true);
    await expect(target.publish(id)).rejects.toThrow(/nothing of it was committed/);
    await target.abandon(id);
    expect(await counts()).toEqual(before);
    allReleased();
    await target.abandon(await target.begin());
  });
});

/** A file's behaviour row (`user_id`) as a slice holds it (`userId`). */
function toBehaviour(r: Record<string, unknown>) {
  const { user_id: userId, ...rest } = r;
  return { ...rest, userId, detail: rest.detail ?? null };
}
