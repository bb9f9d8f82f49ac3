import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../app-error.js';
import { startPostgres, type PgServer } from '../../test-support/pg-server.js';
import { fillPg, testPool } from '../../test-support/store-fixture.js';
import { pgErrorToApp } from './pg-errors.js';
import { PgJournalReader } from './pg-journal.js';
import { migratePg } from './pg-migrations.js';
import { PgRunsStore } from './pg-runs.js';
import { PgUsersStore } from './pg-users.js';

let server: PgServer;
let pool: pg.Pool;
let users: PgUsersStore;
let runs: PgRunsStore;

beforeAll(async () => {
  server = await startPostgres();
  pool = testPool(await server.createDatabase());
  await migratePg(pool);
  await fillPg(pool);
  users = new PgUsersStore(pool);
  runs = new PgRunsStore(pool, new PgJournalReader(pool));
});
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

/** The call's error, and how long it took to come. */
async function failure(call: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = performance.now();
  const err = await call().then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  return { err, ms: performance.now() - started };
}

const unavailable = { code: 'storage_unavailable', status: 503 };

describe('PostgreSQL out of reach', () => {
  it('makes store calls reject with storage_unavailable within seconds, and they work again once it is back', async () => {
    expect(await users.count()).toBe(5);
    const importId = await users.imports.begin();
    await users.imports.write(importId, 'mentioned', '["m1"]');
    await server.down();
    try {
      const calls: (() => Promise<unknown>)[] = [
        () => users.count(),
        () => users.list({ q: '上海', limit: 5, offset: 0 }),
        () => users.upsertAll([{ id: 'n', name: null, profile: {} }], []),
        () => users.imports.begin(),
        () => users.imports.write(importId, 'mentioned', '["m2"]'),
        () => runs.stored('run_aaaaaa03'),
        () => runs.events({}),
      ];
      for (const call of calls) {
        const { err, ms } = await failure(call);
        expect(err).toBeInstanceOf(AppError);
        expect(err).toMatchObject(unavailable);
        expect(ms).toBeLessThan(5000);
      }
      await users.imports.abandon(importId);
    } finally {
      await server.up();
    }
    expect(await users.count()).toBe(5);
    expect(await users.get('m1')).toBeNull();
    expect((await runs.summary('run_aaaaaa01'))?.status).toBe('done');
    await users.imports.abandon(await users.imports.begin());
    expect(pool.totalCount).toBe(pool.idleCount);
  });

  it('maps a connection the server ends mid-query (57P01) too', async () => {
    const locker = await pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const counting = failure(() => users.count());
      // The count waits on the lock; end its connection the way a shutdown does.
      const deadline = Date.now() + 5000;
      let ended = false;
      while (!ended) {
        if (Date.now() > deadline) throw new Error('the count never waited on the lock');
        // Not on `locker`: in a transaction pg_stat_activity keeps showing its first snapshot.
        const { rows } = await pool.query<{ ok: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT count(*)%'`,
        );
        ended = rows.length > 0;
        if (!ended) await new Promise((r) => setTimeout(r, 20));
      }
      const { err } = await counting;
      expect(err).toMatchObject(unavailable);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect(await users.count()).toBe(5);
  });

  it('leaves other errors as they are', () => {
    const syntax = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });
    expect(() => pgErrorToApp(syntax)).toThrow(syntax);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(() => pgErrorToApp(refused)).toThrow(AppError);
  });
});
