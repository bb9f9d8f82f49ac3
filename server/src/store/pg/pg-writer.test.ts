import { Redis } from 'ioredis';
import type pg from 'pg';
import type { RunStatus } from '@app/shared';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../test-support/pg-server.js';
import { startRedis, type RedisServer } from '../../test-support/redis-server.js';
import { fillPg, testPool } from '../../test-support/store-fixture.js';
import type { PatchSource, RunPatch } from '../types.js';
import { PgFrameJournal } from './pg-frame-journal.js';
import { migratePg } from './pg-migrations.js';
import { PgWriter, type Journal, type JournalEntry } from './pg-writer.js';
import { RedisJournal, streamKey } from '../redis/redis-journal.js';

const USER_ID = 'u1';
const quiet = { warn: () => {} };

/** A run as the writer sees it: frames in memory, counters read at write time. */
class TestRun implements PatchSource {
  status: RunStatus = 'running';
  storedSeq = 0;
  committedSeq = 0;
  readonly frames: string[] = [];
  text = '';

  constructor(
    readonly id: string,
    private readonly writer: PgWriter,
  ) {
    writer.createRun({ id, userId: USER_ID, model: 'm', behaviourIds: [], truncated: null });
  }

  get lastSeq(): number {
    return this.frames.length;
  }

  frameAt(seq: number): string | undefined {
    return this.frames[seq - 1];
  }

  /** Called as the writer tells the run how far it is committed. */
  onCommitted: ((seq: number) => void) | null = null;

  committed(seq: number): void {
    expect(seq).toBeGreaterThanOrEqual(this.committedSeq);
    this.committedSeq = seq;
    this.onCommitted?.(seq);
  }

  emit(type: string, content = ''): void {
    this.frames.push(JSON.stringify({ type, runId: this.id, seq: this.frames.length + 1, content }));
    if (type === 'llm_chunk') this.text += content;
    this.writer.frame(this, this.frames.at(-1)!);
  }

  settle(): void {
    this.status = 'done';
    this.emit('done');
  }

  resume(): void {
    this.status = 'running';
    this.emit('progress');
  }

  snapshot(): RunPatch {
    const finished = this.status !== 'running';
    return {
      lastSeq: this.lastSeq,
      eventCount: 0,
      rejectedCount: 0,
      pieces: this.frames.length,
      durationMs: 1,
      status: this.status,
      usage: null,
      errorCode: null,
      errorMessage: null,
      finished,
      text: finished ? this.text : null,
      resumeOnStart: false,
    };
  }
}

/** The PostgreSQL journal, with a gate that holds appends until opened (to see what runs are told meanwhile). */
class GatedJournal implements Journal {
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  readonly inner: PgFrameJournal;
  appends = 0;

  constructor(pool: pg.Pool) {
    this.inner = new PgFrameJournal(pool);
  }

  hold(): void {
    this.gate = new Promise((ok) => (this.openGate = ok));
  }

  letGo(): void {
    this.openGate?.();
    this.gate = null;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  /** Highest seq of each run stored so far. */
  readonly stored = new Map<string, number>();

  async append(frames: JournalEntry[]): Promise<void> {
    this.appends++;
    const gate = this.gate;
    await this.inner.append(frames);
    for (const f of frames) this.stored.set(f.runId, Math.max(f.seq, this.stored.get(f.runId) ?? 0));
    if (gate) await gate;
  }

  release(runIds: string[]): Promise<void> {
    return this.inner.release(runIds);
  }
}

/** Polls until `check` holds, failing after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: PgServer;
let pool: pg.Pool;
let journal: GatedJournal;
let writer: PgWriter;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  pool = testPool(await server.createDatabase());
  await migratePg(pool);
  await fillPg(pool);
  journal = new GatedJournal(pool);
  // Counters due every 50 ms: records writes happen all the time, as under load.
  writer = new PgWriter(pool, journal, quiet, 50);
});
afterEach(async () => {
  journal.letGo();
  await writer.flush();
  await pool.end();
});

const journaled = async (runId: string): Promise<number[]> =>
  (
    await pool.query<{ seq: number }>('SELECT seq FROM frame_journal WHERE run_id = $1 ORDER BY seq', [runId])
  ).rows.map((r) => r.seq);

/** Holds the run's row locked in another transaction: the writer's UPDATE of it waits (a slow commit). */
async function lockRow(runId: string): Promise<() => Promise<void>> {
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query('SELECT id FROM runs WHERE id = $1 FOR UPDATE', [runId]);
  return async () => {
    await client.query('COMMIT');
    client.release();
  };
}

const READ_SETTLED = `SELECT r.status, l.frames FROM runs r JOIN run_logs l ON l.run_id = r.id WHERE r.id = $1`;

describe('PgWriter', () => {
  it('tells a run only the frames an append stored, not those that came while it was under way', async () => {
    const run = new TestRun('run_w1', writer);
    const early: string[] = [];
    run.onCommitted = (seq) => {
      const stored = journal.stored.get(run.id) ?? 0;
      if (seq > stored) early.push(`told ${seq} with ${stored} stored`);
    };
    run.emit('llm_chunk', '看');
    await until(() => run.committedSeq === 1, 5000, 'seq 1 committed');
    journal.hold();
    run.emit('llm_chunk', '车');
    await until(() => journal.appends === 2, 5000, 'the second append');
    // Came while seq 2's append waits at the gate: not stored yet, so no watcher may have it.
    run.emit('llm_chunk', '了');
    journal.letGo();
    await until(() => run.committedSeq === 3, 5000, 'seq 3 committed');
    expect(early).toEqual([]);
    expect(await journaled(run.id)).toEqual([1, 2, 3]);
  });

  it('goes on committing frames of running runs while a records write waits on PostgreSQL', async () => {
    const a = new TestRun('run_w2', writer);
    const b = new TestRun('run_w3', writer);
    a.emit('llm_chunk', '到');
    b.emit('llm_chunk', '店');
    await until(() => a.committedSeq === 1 && b.committedSeq === 1, 5000, 'first frames');
    const unlock = await lockRow(a.id);
    try {
      // a's counters are due within 50 ms: that write waits on the lock; frames must not wait with it.
      await new Promise((r) => setTimeout(r, 150));
      for (let i = 0; i < 20; i++) {
        a.emit('llm_chunk', `${i}`);
        b.emit('llm_chunk', `${i}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await until(
        () => a.committedSeq === 21 && b.committedSeq === 21,
        2000,
        'frames committed under the lock',
      );
    } finally {
      await unlock();
    }
  });

  it('commits a settling run’s terminal frame only once its settled row is stored, then frames of its resume', async () => {
    const run = new TestRun('run_w4', writer);
    run.emit('llm_chunk', '试驾');
    await until(() => run.committedSeq === 1, 5000, 'seq 1');
    const unlock = await lockRow(run.id);
    // What another instance reads the moment a watcher may have the terminal frame.
    let seen: Promise<pg.QueryResult<{ status: string; frames: string }>> | null = null;
    run.onCommitted = (seq) => {
      seen ??= seq >= 2 ? pool.query(READ_SETTLED, [run.id]) : null;
    };
    run.settle();
    // The settle's records write now waits on the lock; a resume meanwhile queues behind it, in seq order.
    await new Promise((r) => setTimeout(r, 200));
    run.resume();
    run.emit('llm_chunk', '再来');
    await new Promise((r) => setTimeout(r, 200));
    expect(run.committedSeq).toBe(1);
    expect(await journaled(run.id)).toEqual([1]);
    const settled = writer.settled(run.id);
    await unlock();
    await settled;
    await until(() => seen !== null, 5000, 'the terminal frame committed');
    const row = (await seen!).rows[0]!;
    expect(row.status).toBe('done');
    expect(row.frames.split('\n')).toEqual(run.frames.slice(0, 2));
    await until(() => run.committedSeq === 4, 5000, 'the resumed frames');
    // The settle let the journal go (deleted here); the resumed frames came after it, nothing lost.
    expect(await journaled(run.id)).toEqual([3, 4]);
  });

  it('writes no frame of a run before its row', async () => {
    const unlock = await (async () => {
      const client = await pool.connect();
      await client.query('BEGIN');
      // Holds inserts into runs: the writer's INSERT waits for this transaction.
      await client.query('LOCK TABLE runs IN EXCLUSIVE MODE');
      return async () => {
        await client.query('COMMIT');
        client.release();
      };
    })();
    const run = new TestRun('run_w5', writer);
    run.emit('llm_chunk', '看车');
    await new Promise((r) => setTimeout(r, 200));
    expect(await journaled(run.id)).toEqual([]);
    expect(run.committedSeq).toBe(0);
    await unlock();
    await until(() => run.committedSeq === 1, 5000, 'seq 1 after the row');
    expect((await pool.query('SELECT 1 FROM runs WHERE id = $1', [run.id])).rowCount).toBe(1);
  });

  it('writes every run’s lines and counters in one transaction: events, merged-away events, rejected lines, replaced lines', async () => {
    const a = new TestRun('run_w6', writer);
    const b = new TestRun('run_w7', writer);
    const ev = (runId: string, lineNo: number, type: string) => ({
      runId,
      userId: USER_ID,
      lineNo,
      eventType: type,
      startTime: '2026-02-01 10:00',
      endTime: '2026-02-01 10:30',
      sourceBehaviorIds: [`b${lineNo}`],
      summary: `${type}，第 ${lineNo} 行`,
    });
    a.emit('llm_chunk', 'x');
    b.emit('llm_chunk', 'y');
    await until(() => a.committedSeq === 1 && b.committedSeq === 1, 5000, 'rows in');
    writer.event(ev(a.id, 1, '看车'));
    writer.event(ev(a.id, 2, '试驾'));
    writer.event(ev(b.id, 1, '到店'));
    writer.rejectedLine(b.id, { lineNo: 2, text: '随便聊聊', code: 'prose', reason: '不是事件行' });
    // A merge replaced a's line 1 by a later one.
    writer.dropEvents(a.id, [1]);
    writer.event(ev(a.id, 3, '看车'));
    await writer.flush();
    const events = async () =>
      (
        await pool.query<{ run_id: string; line_no: number; event_type: string; summary: string }>(
          'SELECT run_id, line_no, event_type, summary FROM events WHERE run_id = ANY($1::text[]) ORDER BY run_id, line_no',
          [[a.id, b.id]],
        )
      ).rows;
    expect(await events()).toEqual([
      { run_id: a.id, line_no: 2, event_type: '试驾', summary: '试驾，第 2 行' },
      { run_id: a.id, line_no: 3, event_type: '看车', summary: '看车，第 3 行' },
      { run_id: b.id, line_no: 1, event_type: '到店', summary: '到店，第 1 行' },
    ]);
    // A run rebuilt from its frames (a takeover) replaces its lines; the other run's stay.
    writer.restoreLines(b.id, [ev(b.id, 5, '下单')], []);
    b.emit('llm_chunk', 'z');
    a.settle();
    await writer.flush();
    expect((await events()).map((e) => `${e.run_id}:${e.line_no}`)).toEqual([
      `${a.id}:2`,
      `${a.id}:3`,
      `${b.id}:5`,
    ]);
    expect((await pool.query('SELECT 1 FROM rejected_lines WHERE run_id = $1', [b.id])).rowCount).toBe(0);
    const rows = await pool.query<{ id: string; status: string; last_seq: number; text: string }>(
      'SELECT id, status, last_seq, text FROM runs WHERE id = ANY($1::text[]) ORDER BY id',
      [[a.id, b.id]],
    );
    expect(rows.rows).toEqual([
      { id: a.id, status: 'done', last_seq: 2, text: 'x' },
      { id: b.id, status: 'running', last_seq: 2, text: '' },
    ]);
  });
});

describe('PgWriter on Redis', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
  });

  it('makes a run’s stream before its row says it runs: new, and going on again after its stream expired', async () => {
    const w = new PgWriter(pool, new RedisJournal(redis), quiet, 50);
    const run = new TestRun('run_s1', w);
    await w.flush();
    // Its owner dying now leaves a running row and no frame: other instances must not take that for a
    // stream Redis lost (they would never continue the run).
    const status = async () =>
      (await pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [run.id])).rows[0]
        ?.status;
    expect(await status()).toBe('running');
    expect(await redis.exists(streamKey(run.id))).toBe(1);
    expect(await new RedisJournal(redis).framesAfter(run.id, 0)).toEqual([]);

    run.emit('llm_chunk', '看车');
    run.settle();
    await w.flush();
    expect(await status()).toBe('done');
    // Expired a minute after the settle; then someone resumes the run: its row says running again before
    // any new frame is appended.
    await redis.del(streamKey(run.id));
    run.status = 'running';
    w.touch(run);
    await w.flush();
    expect(await status()).toBe('running');
    expect(await redis.exists(streamKey(run.id))).toBe(1);
    expect(await redis.pttl(streamKey(run.id))).toBe(-1);
    expect(await new RedisJournal(redis).framesAfter(run.id, 0)).toEqual([]);
  });
});
