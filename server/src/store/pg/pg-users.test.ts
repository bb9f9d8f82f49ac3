import type pg from 'pg';
import type { Behaviour, User } from '@app/shared';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DB } from '../../db/open-database.js';
import { UsersRepo } from '../../db/users-repo.js';
import { startPostgres, type PgServer } from '../../test-support/pg-server.js';
import { BEHAVIOUR_IDS, USER_IDS, fillPg, fillSqlite, testPool } from '../../test-support/store-fixture.js';
import type { UsersStore } from '../types.js';
import { migratePg } from './pg-migrations.js';
import { PgUsersStore } from './pg-users.js';

let server: PgServer;
let db: DB;
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
  pool = testPool(await server.createDatabase());
  await migratePg(pool);
  await fillPg(pool);
  store = new PgUsersStore(pool);
});
afterEach(async () => {
  db.close();
  await pool.end();
});

/** The PostgreSQL store's answer, checked against the SQLite one's. */
async function same<T>(call: (s: UsersStore) => Promise<T>): Promise<T> {
  const expected = await call(sqlite);
  const got = await call(store);
  expect(got).toStrictEqual(expected);
  return got;
}

const QUERIES = [
  undefined,
  '',
  '上海',
  'li',
  'LI',
  'zoe',
  'Zo',
  '%',
  '_',
  '\\',
  '100%_',
  '"city"',
  'u',
  '9万',
  'x',
];

const users: User[] = [
  { id: 'U2', name: '新名字', profile: {} },
  { id: 'u1', name: null, profile: { city: '深圳' } },
  { id: 'new1', name: null, profile: {} },
  { id: 'new1', name: '后来', profile: { a: 1 } },
  { id: 'new1', name: null, profile: {} },
  { id: 'new2', name: 'Ann', profile: { 备注: '“引号”\n换行' } },
];
const behaviours: Behaviour[] = [
  {
    id: 'n-1',
    userId: 'new1',
    ts: '2026-02-01 10:00',
    action: '试驾',
    object: '小米SU7',
    channel: 'store',
    detail: null,
  },
  {
    id: 'n-2',
    userId: 'u1',
    ts: '2025-12-31 23:59',
    action: '到店',
    object: '门店',
    channel: 'phone',
    detail: '细节',
  },
];

describe('PgUsersStore', () => {
  it('answers every read as the SQLite store does for the same rows', async () => {
    for (const id of USER_IDS) {
      await same((s) => s.get(id));
      await same((s) => s.behaviours(id));
    }
    for (const id of BEHAVIOUR_IDS) await same((s) => s.behaviourOwnerOf(id));
    expect(await same((s) => s.count())).toBe(5);
    for (const q of QUERIES) {
      for (const [limit, offset] of [
        [10, 0],
        [2, 0],
        [2, 2],
        [3, 4],
        [5, 10],
      ] as const) {
        await same((s) => s.list({ q, limit, offset }));
      }
    }
    // Not vacuous: bytewise order, the latest run (ties by insertion), ASCII-only case folding, escapes.
    const all = await store.list({ limit: 10, offset: 0 });
    expect(all.items.map((u) => u.id)).toEqual(['U2', 'a.b', 'u-1', 'u1', 'z9']);
    expect(all.items[3]).toMatchObject({
      behaviourCount: 3,
      lastRun: { id: 'run_aaaaaa03', status: 'running' },
    });
    expect((await store.list({ q: 'zoe', limit: 10, offset: 0 })).total).toBe(1);
    expect((await store.list({ q: '%', limit: 10, offset: 0 })).items.map((u) => u.id)).toEqual(['u-1']);
    expect((await store.behaviours('u1')).map((b) => b.id)).toEqual(['u1-0', 'u1-a', 'u1-b']);
  });

  it('upserts as SQLite does (a missing name or empty profile keeps the old one; repeats apply in order)', async () => {
    const expected = await sqlite.upsertAll(users, behaviours);
    expect(await store.upsertAll(users, behaviours)).toStrictEqual(expected);
    for (const id of [...USER_IDS, 'new1', 'new2']) {
      await same((s) => s.get(id));
      await same((s) => s.behaviours(id));
    }
    await same((s) => s.list({ limit: 20, offset: 0 }));
    expect(await store.get('new1')).toStrictEqual({ id: 'new1', name: '后来', profile: { a: 1 } });
    expect(await store.get('u1')).toStrictEqual({ id: 'u1', name: '张先生', profile: { city: '深圳' } });
  });

  it('stores Chinese text as it is, not as \\u escapes', async () => {
    await store.upsertAll(users, behaviours);
    const { rows } = await pool.query<{ name: string; profile: string }>(
      `SELECT name, profile FROM users WHERE id = 'new2'`,
    );
    expect(rows[0]).toEqual({ name: 'Ann', profile: '{"备注":"“引号”\\n换行"}' });
    const detail = await pool.query(`SELECT detail FROM behaviours WHERE id = 'n-2'`);
    expect(detail.rows[0]).toEqual({ detail: '细节' });
  });

  it('writes thousands of rows at once, and nothing when one of them is bad', async () => {
    const many = Array.from({ length: 6000 }, (_, i) => ({ id: `m${i}`, name: `用户${i}`, profile: { i } }));
    const theirs = many.map((u) => ({ ...behaviours[0]!, id: `${u.id}-b`, userId: u.id }));
    expect(await store.upsertAll(many, theirs)).toEqual({ users: 6000, behaviours: 6000 });
    expect(await store.count()).toBe(6005);
    expect(await store.get('m5999')).toStrictEqual({ id: 'm5999', name: '用户5999', profile: { i: 5999 } });

    // A behaviour id already taken: the users of the same call are not written either.
    await expect(
      store.upsertAll([{ id: 'late', name: null, profile: {} }], [{ ...behaviours[0]!, id: 'u1-a' }]),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await store.get('late')).toBeNull();
    expect(pool.totalCount).toBe(pool.idleCount);
  });
});
