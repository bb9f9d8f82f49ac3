import type pg from 'pg';
import type { RunStatus } from '@app/shared';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DB } from '../../db/open-database.js';
import { RunsRepo } from '../../db/runs-repo.js';
import { startPostgres, type PgServer } from '../../test-support/pg-server.js';
import { RUN_IDS, USER_IDS, fillPg, fillSqlite, testPool } from '../../test-support/store-fixture.js';
import type { JournalReader, RunsStore } from '../types.js';
import { PgJournalReader } from './pg-journal.js';
import { migratePg } from './pg-migrations.js';
import { PgRunsStore } from './pg-runs.js';

let server: PgServer;
let db: DB;
let pool: pg.Pool;
let sqlite: RunsRepo;
let store: PgRunsStore;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  db = openDatabase(':memory:');
  fillSqlite(db);
  sqlite = new RunsRepo(db);
  pool = testPool(await server.createDatabase());
  await migratePg(pool);
  await fillPg(pool);
  store = new PgRunsStore(pool, new PgJournalReader(pool));
});
afterEach(async () => {
  db.close();
  await pool.end();
});

/** The PostgreSQL store's answer, checked against the SQLite one's. */
async function same<T>(call: (s: RunsStore) => Promise<T>): Promise<T> {
  const expected = await call(sqlite);
  const got = await call(store);
  expect(got).toStrictEqual(expected);
  return got;
}

describe('PgRunsStore', () => {
  it('answers every read of a run as the SQLite store does for the same rows and frames', async () => {
    for (const id of RUN_IDS) {
      await same((s) => s.summary(id));
      await same((s) => s.stored(id));
      await same((s) => s.detail(id));
      await same((s) => s.detail(id, '正在流的文字'));
      for (const after of [0, 1, 2, 3, 4, 5, 6, 7, 100]) await same((s) => s.framesAfter(id, after));
    }
    for (const key of ['key-1', 'key-5', 'nope']) await same((s) => s.byStartKey(key));
    expect(await same((s) => s.cancelledByShutdown())).toEqual(['run_aaaaaa04', 'run_aaaaaa02']);

    // Not vacuous: a resumed run is its old log then the journal up to its first gap, rebuilt.
    const resumed = (await store.stored('run_aaaaaa05'))!;
    expect(resumed).toMatchObject({
      storedSeq: 3,
      summary: { lastSeq: 6 },
      text: 'a.b|试驾|2026-01-04 12:00|…',
    });
    const running = (await store.stored('run_aaaaaa03'))!;
    expect(running.lines!.events.map((e) => e.lineNo)).toEqual([3]);
    expect(running.lines!.rejected.map((r) => r.lineNo)).toEqual([2]);
    expect((await store.detail('run_aaaaaa01'))!.rejected).toHaveLength(1);
  });

  it('lists runs and current events as the SQLite store does', async () => {
    const filters: { userId?: string; status?: RunStatus }[] = [
      {},
      { userId: 'u1' },
      { status: 'running' },
      { userId: 'a.b', status: 'running' },
      { userId: 'nobody' },
      { userId: '' },
    ];
    for (const f of filters) {
      for (const [limit, offset] of [
        [10, 0],
        [2, 0],
        [2, 1],
        [4, 4],
        [5, 20],
      ] as const) {
        await same((s) => s.list({ ...f, limit, offset }));
      }
    }
    const running = await same((s) => s.runningIds());
    expect(running.length).toBeGreaterThan(0);
    const all = await same((s) => s.events({}));
    for (const userId of USER_IDS) await same((s) => s.events({ userId }));
    for (const runId of RUN_IDS) await same((s) => s.events({ runId }));
    await same((s) => s.events({ userId: 'a.b', runId: 'run_aaaaaa01' }));

    // Not vacuous: of two runs started at the same moment the later-inserted one is the latest.
    expect(all.map((e) => [e.runId, e.lineNo])).toEqual([
      ['run_aaaaaa04', 1],
      ['run_aaaaaa04', 3],
      ['run_aaaaaa03', 1],
    ]);
    expect((await store.list({ limit: 3, offset: 0 })).items.map((r) => r.id)).toEqual([
      'run_aaaaaa06',
      'run_aaaaaa05',
      'run_aaaaaa03',
    ]);
  });

  it('reads every frame of a run that settles between reading its row and its journal', async () => {
    const journal = new PgJournalReader(pool);
    let settleFirst = true;
    // The writer settles the run (its whole log in run_logs, its journal gone) just before the journal is read.
    const racing: JournalReader = {
      framesAfter: async (runId, after) => {
        if (settleFirst) {
          settleFirst = false;
          const all = await journal.framesAfter(runId, 0);
          await pool.query(
            `WITH log AS (INSERT INTO run_logs (run_id, frames) VALUES ($1, $2))
             UPDATE runs SET status = 'done' WHERE id = $1`,
            [runId, all.join('\n')],
          );
          await pool.query('DELETE FROM frame_journal WHERE run_id = $1', [runId]);
        }
        return journal.framesAfter(runId, after);
      },
    };
    const expected = (await store.stored('run_aaaaaa03'))!.frames;
    expect(expected).toHaveLength(6);
    const raced = new PgRunsStore(pool, racing);
    expect(await raced.framesAfter('run_aaaaaa03', 2)).toEqual(expected.slice(2));
    expect(settleFirst).toBe(false);
  });
});
