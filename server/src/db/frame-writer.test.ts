import type { ExtractedEvent, RejectedLine, RunStatus } from '@app/shared';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameWriter, type PatchSource, type RunPatch } from './frame-writer.js';
import { MIGRATIONS } from './migrations.js';
import { openDatabase, type DB } from './open-database.js';
import { RunsRepo } from './runs-repo.js';
import { UsersRepo } from './users-repo.js';

const USER_ID = 'user_0001';

/** A minimal run: frames in memory, counters read by the writer at flush time. */
class FakeRun implements PatchSource {
  status: RunStatus = 'running';
  text = '';
  pieces = 0;
  eventCount = 0;
  rejectedCount = 0;
  storedSeq: number;
  /** Last seq the writer reported committed. */
  committedSeq = 0;
  readonly frames: string[];

  constructor(
    readonly id: string,
    private readonly writer: FrameWriter,
    loaded: { frames: string[]; storedSeq: number; text: string } = { frames: [], storedSeq: 0, text: '' },
  ) {
    this.frames = [...loaded.frames];
    this.storedSeq = loaded.storedSeq;
    this.text = loaded.text;
  }

  get lastSeq(): number {
    return this.frames.length;
  }

  frameAt(seq: number): string | undefined {
    return this.frames[seq - 1];
  }

  committed(seq: number): void {
    this.committedSeq = seq;
  }

  /** Appends a frame whose JSON leads with its type, as every real frame does. */
  emit(type: string, fields: Record<string, unknown> = {}): string {
    const seq = this.frames.length + 1;
    const json = JSON.stringify({ type, runId: this.id, seq, ...fields });
    this.frames.push(json);
    this.writer.frame(this, json);
    return json;
  }

  chunk(content: string): string {
    this.text += content;
    this.pieces++;
    return this.emit('llm_chunk', { content });
  }

  event(lineNo: number): void {
    this.eventCount++;
    this.writer.event(eventOf(this.id, lineNo));
  }

  rejected(lineNo: number): void {
    this.rejectedCount++;
    const line: RejectedLine = { lineNo, text: '随便聊聊', code: 'prose', reason: '不是事件行' };
    this.writer.rejectedLine(this.id, line);
  }

  settle(status: RunStatus = 'done'): void {
    this.status = status;
    this.emit('done', { events: this.eventCount });
    this.writer.touch(this);
  }

  snapshot(): RunPatch {
    const finished = this.status !== 'running';
    return {
      lastSeq: this.lastSeq,
      eventCount: this.eventCount,
      rejectedCount: this.rejectedCount,
      pieces: this.pieces,
      durationMs: 42,
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

const eventOf = (runId: string, lineNo: number): ExtractedEvent => ({
  runId,
  userId: USER_ID,
  eventType: '到店看车',
  startTime: '2026-01-15 10:00',
  endTime: '2026-01-15 10:40',
  sourceBehaviorIds: ['b0001-01'],
  summary: '到徐汇门店看了 Model Y',
  lineNo,
});

interface RunRow {
  status: string;
  text: string;
  last_seq: number;
  event_count: number;
  rejected_count: number;
  pieces: number;
  finished_at: string | null;
}

/** Polls `check` until it is true, or fails after `ms`. */
async function until(check: () => boolean, ms = 1_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('FrameWriter', () => {
  let dir: string;
  let db: DB;
  let repo: RunsRepo;
  const writers: FrameWriter[] = [];

  /** A writer whose pending work is written (and timer cleared) before the database closes. */
  const newWriter = (flushMs = 60_000, patchMs?: number): FrameWriter => {
    const w = new FrameWriter(db, flushMs, patchMs);
    writers.push(w);
    return w;
  };
  const startRun = (w: FrameWriter, id: string): FakeRun => {
    w.createRun({
      id,
      userId: USER_ID,
      model: 'builtin-rules-v1',
      behaviourIds: ['b0001-01'],
      truncated: null,
    });
    return new FakeRun(id, w);
  };
  const row = (id: string) => db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  /** Every frame in `frame_batches`, batch by batch (ORDER BY id), line by line, as the reader splits them. */
  const journal = (runId?: string) =>
    batchRows()
      .flatMap((b) => b.frames.split('\n'))
      .map((data) => {
        const f = JSON.parse(data) as { runId: string; seq: number; type: string };
        return { runId: f.runId, seq: f.seq, type: f.type, data };
      })
      .filter((f) => runId === undefined || f.runId === runId);
  const batchRows = () =>
    db.prepare('SELECT id, frames FROM frame_batches ORDER BY id').all() as { id: number; frames: string }[];
  const batchCount = () => (db.prepare('SELECT count(*) AS n FROM frame_batches').get() as { n: number }).n;
  /** The raw `run_logs` row of a run, if it has settled. */
  const logRow = (runId: string) =>
    db.prepare('SELECT frames FROM run_logs WHERE run_id = ?').get(runId) as { frames: string } | undefined;
  /** The run's settled log, split into frames (seq and type read from each JSON), or [] when it has none. */
  const settled = (runId: string) =>
    (logRow(runId)?.frames.split('\n') ?? []).map((data) => {
      const f = JSON.parse(data) as { seq: number; type: string };
      return { seq: f.seq, type: f.type, data };
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'frame-writer-'));
    db = openDatabase(join(dir, 'runs.sqlite'));
    new UsersRepo(db).upsertAll([{ id: USER_ID, name: '张伟', profile: {} }], []);
    repo = new RunsRepo(db);
  });

  afterEach(() => {
    for (const w of writers.splice(0)) w.flush();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tableNames = (d: DB) =>
    (d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (t) => t.name,
    );
  const columns = (d: DB, table: string) =>
    (d.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

  it('migrates to the latest: frame_batches and run_logs (v3), start keys (v4), continued-at-start flags (v6), import views (v7)', async () => {
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(MIGRATIONS).toHaveLength(7);
    expect(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name").pluck().all(),
    ).toEqual(['visible_behaviours', 'visible_users']);
    expect(columns(db, 'runs')).toContain('resume_on_start');
    expect(columns(db, 'runs')).toContain('start_key');
    expect(columns(db, 'frame_batches')).toEqual(['id', 'frames']);
    expect(columns(db, 'run_logs')).toEqual(['run_id', 'frames']);
    const tables = tableNames(db);
    expect(tables).toEqual(expect.arrayContaining(['frame_batches', 'run_logs', 'runs']));
    expect(tables).not.toContain('run_frames');
    expect(tables).not.toContain('frame_journal');
  });

  it('moves v2 data over: run_frames into one log row in seq order, the journal into one batch in id order', async () => {
    const v2 = new Database(':memory:');
    try {
      v2.exec(MIGRATIONS[0]!);
      v2.exec(MIGRATIONS[1]!);
      const now = '2026-01-15T10:00:00.000Z';
      v2.prepare('INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)').run(USER_ID, '张伟', now);
      v2.prepare(
        `INSERT INTO runs (id, user_id, model, status, created_at, updated_at) VALUES (?, ?, 'm', 'running', ?, ?)`,
      ).run('run_a', USER_ID, now, now);
      const frame = (seq: number, type: string, fields: Record<string, unknown> = {}) =>
        JSON.stringify({ type, runId: 'run_a', seq, ...fields });
      const f = [
        frame(1, 'start', { message: '开始' }),
        frame(2, 'llm_chunk', { content: '看车\n' }),
        frame(3, 'error', { code: 'cancelled' }),
        frame(4, 'progress', { stage: 'resumed', message: '继续生成剩余事件…' }),
        frame(5, 'llm_chunk', { content: '试驾\n' }),
      ];
      const runFrame = v2.prepare('INSERT INTO run_frames (run_id, seq, type, data) VALUES (?, ?, ?, ?)');
      for (const seq of [3, 1, 2]) runFrame.run('run_a', seq, JSON.parse(f[seq - 1]!).type, f[seq - 1]);
      const journalRow = v2.prepare(
        'INSERT INTO frame_journal (id, run_id, seq, type, data) VALUES (?, ?, ?, ?, ?)',
      );
      // Inserted out of id order: the batch follows id order, not insertion order.
      journalRow.run(8, 'run_a', 5, 'llm_chunk', f[4]);
      journalRow.run(7, 'run_a', 4, 'progress', f[3]);

      v2.exec(MIGRATIONS[2]!);

      expect(tableNames(v2)).not.toContain('run_frames');
      expect(tableNames(v2)).not.toContain('frame_journal');
      expect(v2.prepare('SELECT run_id, frames FROM run_logs').all()).toEqual([
        { run_id: 'run_a', frames: [f[0], f[1], f[2]].join('\n') },
      ]);
      expect(v2.prepare('SELECT frames FROM frame_batches').all()).toEqual([
        { frames: [f[3], f[4]].join('\n') },
      ]);
      // The reader (on the latest schema) makes one run of them again: the log, then the journaled frames.
      v2.exec(MIGRATIONS[3]!);
      const v2repo = new RunsRepo(v2);
      expect(await v2repo.framesAfter('run_a', 0)).toEqual(f);
      expect(await v2repo.stored('run_a')).toMatchObject({ frames: f, storedSeq: 3, text: '看车\n试驾\n' });
    } finally {
      v2.close();
    }
  });

  it('journals the frames of a running run in one batch row per flush, and reads rebuild the run from them', async () => {
    const w = newWriter();
    const run = startRun(w, 'run_a');
    const other = startRun(w, 'run_b');
    const f1 = run.chunk('看车');
    const o1 = other.chunk('别的用户');
    const f2 = run.emit('progress', { stage: 'generating', message: '模型开始输出…', percent: 0 });
    const f3 = run.chunk('，试驾\n');
    const o2 = other.chunk('……');
    run.event(1);
    run.rejected(2);
    w.flush();

    // One flush, two runs: one row, every frame of the tick in emit order.
    expect(batchCount()).toBe(1);
    expect(batchRows()[0]!.frames).toBe([f1, o1, f2, f3, o2].join('\n'));
    expect(settled('run_a')).toEqual([]);
    expect(logRow('run_a')).toBeUndefined();
    expect(journal('run_a')).toEqual([
      { runId: 'run_a', seq: 1, type: 'llm_chunk', data: f1 },
      { runId: 'run_a', seq: 2, type: 'progress', data: f2 },
      { runId: 'run_a', seq: 3, type: 'llm_chunk', data: f3 },
    ]);
    // Stored as raw UTF-8, not \u escapes, and read back byte for byte.
    expect(f1).toBe('{"type":"llm_chunk","runId":"run_a","seq":1,"content":"看车"}');
    expect(batchRows()[0]!.frames).toContain('"content":"看车"');
    expect(batchRows()[0]!.frames).not.toContain('\\u');
    expect(await repo.framesAfter('run_a', 0)).toEqual([f1, f2, f3]);
    expect(await repo.framesAfter('run_a', 1)).toEqual([f2, f3]);
    expect(await repo.framesAfter('run_a', 3)).toEqual([]);
    expect(await repo.framesAfter('run_b', 0)).toEqual([o1, o2]);

    // The row holds counters (forced flush) but not the text while the run streams.
    expect(row('run_a')).toMatchObject({
      status: 'running',
      text: '',
      last_seq: 3,
      event_count: 1,
      pieces: 2,
    });
    expect(row('run_a')!.finished_at).toBeNull();

    // The next flush is the next row; a flush with nothing pending writes none.
    const f4 = run.chunk('下单');
    w.flush();
    w.flush();
    expect(batchCount()).toBe(2);
    expect(batchRows()[1]!.frames).toBe(f4);
    expect(await repo.framesAfter('run_a', 2)).toEqual([f3, f4]);

    // As a restarted server sees it: the row still says running, so everything comes from the batches.
    db.prepare('UPDATE runs SET last_seq = 0, event_count = 0, rejected_count = 0, pieces = 0').run();
    const stored = (await repo.stored('run_a'))!;
    expect(stored.text).toBe('看车，试驾\n下单');
    expect(stored.pieces).toBe(3);
    // (Its counts of lines come from event and line_rejected frames, which this run never emitted.)
    expect(stored.summary).toMatchObject({ status: 'running', lastSeq: 4, eventCount: 0, rejectedCount: 0 });
    expect(stored.frames).toEqual([f1, f2, f3, f4]);
    expect(stored.storedSeq).toBe(0);
    expect((await repo.detail('run_a'))!.text).toBe('看车，试驾\n下单');
  });

  it('reads only the contiguous journaled frames of a run', async () => {
    const w = newWriter();
    const run = startRun(w, 'run_a');
    const f1 = run.chunk('看车');
    w.flush();
    run.chunk('试驾');
    w.flush();
    const f3 = run.chunk('下单');
    w.flush();
    expect(batchCount()).toBe(3);
    db.prepare('DELETE FROM frame_batches WHERE id = ?').run(batchRows()[1]!.id);
    expect(journal('run_a').map((f) => f.data)).toEqual([f1, f3]);
    // Seq 2 is gone, so seq 3 no longer follows on: a gap is never papered over.
    expect(await repo.framesAfter('run_a', 0)).toEqual([f1]);
    expect(await repo.framesAfter('run_a', 2)).toEqual([f3]);
    expect((await repo.stored('run_a'))!.frames).toEqual([f1]);
  });

  it('writes a settled run’s whole log as one run_logs row, in order, with its text', async () => {
    const w = newWriter();
    // Started first, so its batches sit below run_a's and keep them from being pruned.
    const keeper = startRun(w, 'run_keep');
    keeper.chunk('还在跑');
    const run = startRun(w, 'run_a');
    run.chunk('看车');
    run.chunk('，试驾\n');
    w.flush();
    run.chunk('下单\n');
    run.settle();
    expect(row('run_a')!.status).toBe('running'); // nothing written before the flush
    w.flush();

    const all = run.frames;
    expect(all).toHaveLength(4);
    expect(logRow('run_a')!.frames).toBe(all.join('\n'));
    expect(settled('run_a')).toEqual(
      all.map((data, i) => ({ seq: i + 1, type: JSON.parse(data).type, data })),
    );
    expect(settled('run_a').map((f) => f.type)).toEqual(['llm_chunk', 'llm_chunk', 'llm_chunk', 'done']);
    expect(logRow('run_a')!.frames).toContain('"content":"看车"'); // raw UTF-8 in the log too
    expect(settled('run_keep')).toEqual([]);
    expect(run.storedSeq).toBe(4);
    expect(row('run_a')).toMatchObject({
      status: 'done',
      text: '看车，试驾\n下单\n',
      last_seq: 4,
      pieces: 3,
    });
    expect(row('run_a')!.finished_at).not.toBeNull();

    // Its frames are still in the batches (run_keep runs), yet each frame is read exactly once.
    expect(journal('run_a').map((f) => f.data)).toEqual(all);
    expect(await repo.framesAfter('run_a', 0)).toEqual(all);
    expect(await repo.framesAfter('run_a', 2)).toEqual(all.slice(2));
    const stored = (await repo.stored('run_a'))!;
    expect(stored).toMatchObject({ text: '看车，试驾\n下单\n', storedSeq: 4, frames: all, pieces: 3 });
    expect(stored.summary.lastSeq).toBe(4);
  });

  it('rewrites the whole log row, every frame 1..lastSeq, when a resumed run settles again', async () => {
    const w = newWriter();
    const first = startRun(w, 'run_a');
    first.chunk('看车\n');
    first.settle('cancelled');
    w.flush();
    expect(settled('run_a')).toHaveLength(2);
    const firstLog = logRow('run_a')!.frames;

    // Loaded back from storage and resumed, as RunManager.open does.
    const s = (await repo.stored('run_a'))!;
    const run = new FakeRun('run_a', w, { frames: s.frames, storedSeq: s.storedSeq, text: s.text });
    expect(run.storedSeq).toBe(2);
    run.status = 'running';
    run.emit('progress', { stage: 'resumed', message: '继续生成剩余事件…' });
    run.chunk('试驾\n');
    w.flush();
    // While it runs again the log row is untouched; the new frames come from the batches.
    expect(logRow('run_a')!.frames).toBe(firstLog);
    expect(journal('run_a').map((f) => f.seq)).toEqual([3, 4]);
    expect(await repo.framesAfter('run_a', 0)).toEqual(run.frames);
    expect((await repo.stored('run_a'))!.text).toBe('看车\n试驾\n');

    const frameAt = vi.spyOn(run, 'frameAt');
    run.settle();
    w.flush();
    expect(frameAt.mock.calls.map(([seq]) => seq)).toEqual([1, 2, 3, 4, 5]);
    expect(run.frames).toHaveLength(5);
    expect(run.storedSeq).toBe(5);
    expect(logRow('run_a')!.frames).toBe(run.frames.join('\n'));
    expect(settled('run_a').map((f) => f.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((db.prepare('SELECT count(*) AS n FROM run_logs').get() as { n: number }).n).toBe(1);
    expect(await repo.framesAfter('run_a', 0)).toEqual(run.frames);
    expect(row('run_a')).toMatchObject({ status: 'done', text: '看车\n试驾\n', last_seq: 5 });
  });

  it('prunes the batches below the first frame of every running run, on a forced flush', async () => {
    const w = newWriter();
    const a = startRun(w, 'run_a');
    const b = startRun(w, 'run_b');
    a.chunk('看车');
    a.chunk('试驾');
    w.flush(); // batch 1: a1 a2
    a.settle();
    b.chunk('浏览车型');
    w.flush(); // batch 2: a3 b1, b's first: batch 1 goes
    expect(batchCount()).toBe(1);
    expect(journal().map((r) => [r.runId, r.seq])).toEqual([
      ['run_a', 3],
      ['run_b', 1],
    ]);
    expect(await repo.framesAfter('run_a', 0)).toEqual(a.frames);
    expect(await repo.framesAfter('run_b', 0)).toEqual(b.frames);

    // A run settling after a running run's first batch keeps its frames until that run settles.
    const c = startRun(w, 'run_c');
    c.chunk('询价');
    b.chunk('下单');
    c.settle();
    w.flush(); // batch 3: c1 b2 c2
    expect(batchCount()).toBe(2);
    expect(journal().map((r) => [r.runId, r.seq])).toEqual([
      ['run_a', 3],
      ['run_b', 1],
      ['run_c', 1],
      ['run_b', 2],
      ['run_c', 2],
    ]);
    expect(await repo.framesAfter('run_c', 0)).toEqual(c.frames);

    b.settle('error');
    w.flush();
    expect(batchCount()).toBe(0);
    expect(journal()).toEqual([]);
    expect(await repo.framesAfter('run_a', 0)).toEqual(a.frames);
    expect(await repo.framesAfter('run_b', 0)).toEqual(b.frames);
    expect(await repo.framesAfter('run_c', 0)).toEqual(c.frames);
    expect(row('run_b')).toMatchObject({ status: 'error', text: '浏览车型下单' });
  });

  it('commits within the turn (flushMs 0) and tells a run only once its frames are in the file', async () => {
    const w = newWriter(0);
    const run = startRun(w, 'run_a');
    // Another connection sees only what is committed, as a process after a crash would.
    const other = new Database(join(dir, 'runs.sqlite'), { readonly: true });
    const seen: number[] = [];
    const mismatches: string[] = [];
    run.committed = () => {
      // The SQLite read runs at the call (before the first await); compared when it resolves.
      const want = [...run.frames];
      void new RunsRepo(other).framesAfter('run_a', 0).then((stored) => {
        if (JSON.stringify(stored) !== JSON.stringify(want)) mismatches.push(`at ${want.length}`);
      });
      seen.push(run.frames.length);
    };
    run.chunk('看车');
    run.chunk('试驾');
    expect(seen).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([2]);
    run.chunk('下单');
    w.flush();
    expect(seen).toEqual([2, 3]);
    await Promise.resolve();
    expect(mismatches).toEqual([]);
    other.close();
  });

  it('prunes on a timer tick when the patch is due (patchMs 0)', async () => {
    const w = newWriter(5, 0);
    const a = startRun(w, 'run_a');
    const b = startRun(w, 'run_b');
    a.chunk('看车');
    await until(() => batchCount() === 1);
    a.settle();
    b.chunk('试驾');
    await until(() => row('run_a')?.status === 'done');
    // The tick that settled run_a dropped its first batch; the one holding b's first frame stays.
    expect(batchCount()).toBe(1);
    expect(journal().map((r) => [r.runId, r.seq])).toEqual([
      ['run_a', 2],
      ['run_b', 1],
    ]);
    expect(settled('run_a').map((f) => f.data)).toEqual(a.frames);
    expect(await repo.framesAfter('run_a', 0)).toEqual(a.frames);
    // The running run's counters are due too.
    expect(row('run_b')).toMatchObject({ status: 'running', last_seq: 1, pieces: 1 });
  });

  it('holds back a running run’s counters on ticks before patchMs, but not frames, settles or flush()', async () => {
    const w = newWriter(5, 60_000);
    const run = startRun(w, 'run_a');
    run.chunk('看车');
    run.event(1);
    await until(() => journal('run_a').length === 1);
    expect(row('run_a')).toMatchObject({ status: 'running', last_seq: 0, event_count: 0, pieces: 0 });
    // Lines wait with the counters: rows keyed by run would dirty a page per run per tick.
    expect(await repo.eventsOfRun('run_a')).toHaveLength(0);

    run.chunk('试驾');
    await until(() => journal('run_a').length === 2);
    expect(row('run_a')!.last_seq).toBe(0);

    w.flush();
    expect(row('run_a')).toMatchObject({ last_seq: 2, event_count: 1, pieces: 2 });
    expect(await repo.eventsOfRun('run_a')).toHaveLength(1);

    // Runs that settle are written on the next tick, patch due or not.
    run.settle();
    const done = startRun(w, 'run_done');
    done.chunk('下单');
    done.settle();
    await until(() => row('run_done')?.status === 'done' && row('run_a')?.status === 'done');
    expect(row('run_done')).toMatchObject({ text: '下单', last_seq: 2 });
    expect(settled('run_done')).toHaveLength(2);
    expect(settled('run_a')).toHaveLength(3);
    // Not a patch-due tick: nothing pruned (with no run left running, a prune would take every batch),
    // and the read still returns each frame once.
    expect(batchCount()).toBe(3);
    expect(journal('run_done')).toHaveLength(2);
    expect(journal('run_a')).toHaveLength(3);
    expect(await repo.framesAfter('run_done', 0)).toEqual(done.frames);
    expect(await repo.framesAfter('run_a', 0)).toEqual(run.frames);
  });

  it('writes a resumed run’s status with its first batch, before the next counter write is due', async () => {
    const w = newWriter(5, 60_000);
    const run = startRun(w, 'run_a');
    run.chunk('看车');
    run.settle('cancelled');
    await until(() => row('run_a')?.status === 'cancelled');
    // Resumed: running again. A crash after this tick must find the row marked running, so the frames
    // of the resumed attempt (only in the batches) are recovered instead of pruned.
    run.status = 'running';
    run.chunk('试驾');
    await until(() => journal('run_a').length === 3);
    expect(row('run_a')!.status).toBe('running');
    expect((await repo.stored('run_a'))!.frames).toEqual(run.frames);
  });

  it('rebuilds the lines of a run that died running from its frames, replacing what was stored', async () => {
    const before = newWriter();
    const run = startRun(before, 'run_a');
    const lineFrames = (lineNo: number) => {
      run.event(lineNo);
      run.emit('event', { event: eventOf('run_a', lineNo), percent: 50 });
    };
    lineFrames(1);
    before.flush(); // line 1 stored as a row
    lineFrames(2);
    const line: RejectedLine = { lineNo: 3, text: '随便聊聊', code: 'prose', reason: '不是事件行' };
    run.rejected(3);
    run.emit('progress', { stage: 'line_rejected', message: '第 3 行未采用', percent: 50, rejected: line });
    // The process dies here: lines 2 and 3 are only in the frames (the batch of that tick is written).
    (before as unknown as { lines: Map<string, unknown> }).lines.clear();
    before.flush();
    expect((await repo.eventsOfRun('run_a')).map((e) => e.lineNo)).toEqual([1]);

    const stored = (await repo.stored('run_a'))!;
    expect(stored.summary).toMatchObject({ eventCount: 2, rejectedCount: 1 });
    expect(stored.lines!.events.map((e) => e.lineNo)).toEqual([1, 2]);
    expect(stored.lines!.rejected).toEqual([line]);
    const w = newWriter();
    w.restoreLines('run_a', stored.lines!.events, stored.lines!.rejected);
    w.flush();
    expect((await repo.eventsOfRun('run_a')).map((e) => [e.lineNo, e.summary])).toEqual([
      [1, '到徐汇门店看了 Model Y'],
      [2, '到徐汇门店看了 Model Y'],
    ]);
    expect(await repo.rejectedOfRun('run_a')).toEqual([line]);
  });

  it('writes a queued run row in the same flush as its first frames, events and rejected lines', async () => {
    const w = newWriter();
    const run = startRun(w, 'run_a');
    run.chunk('看车');
    run.event(1);
    run.rejected(2);
    expect(row('run_a')).toBeUndefined();
    expect(batchCount()).toBe(0);
    w.flush(); // the run row goes first, or events' foreign key would fail
    expect(row('run_a')).toMatchObject({ status: 'running', last_seq: 1 });
    expect(journal('run_a')).toHaveLength(1);
    expect(await repo.eventsOfRun('run_a')).toEqual([eventOf('run_a', 1)]);
    expect(await repo.rejectedOfRun('run_a')).toEqual([
      { lineNo: 2, text: '随便聊聊', code: 'prose', reason: '不是事件行' },
    ]);

    // On the timer, too: the row and its first frame appear together.
    const tw = newWriter(5);
    const timed = startRun(tw, 'run_t');
    timed.chunk('试驾');
    await until(() => row('run_t') !== undefined);
    expect(journal('run_t')).toHaveLength(1);
    expect(await repo.stored('run_t')).toMatchObject({ behaviourIds: ['b0001-01'], text: '试驾' });
  });

  // Recovery flushes between opening one stale run and the next: the prune must not take the batches of
  // the runs not yet loaded.
  it('keeps batches a previous process left for runs still marked running', async () => {
    const before = newWriter();
    const a = startRun(before, 'run_a');
    const b = startRun(before, 'run_b');
    a.chunk('看车\n');
    b.chunk('试驾\n');
    before.flush(); // …and the process dies with both running

    const w = newWriter();
    const sa = (await repo.stored('run_a'))!;
    const recovered = new FakeRun('run_a', w, { frames: sa.frames, storedSeq: sa.storedSeq, text: sa.text });
    recovered.settle('interrupted');
    w.flush(); // what RunManager.open('run_b') does next
    expect(batchCount()).toBe(2);
    const sb = (await repo.stored('run_b'))!;
    expect(sb.frames).toEqual(b.frames);
    expect(sb.text).toBe('试驾\n');
  });

  it('keeps every batch until recovered() when created while a run is marked running, then prunes', async () => {
    const before = newWriter();
    const stale = startRun(before, 'run_stale');
    stale.chunk('看车\n');
    before.flush(); // …and the process dies with run_stale running

    const w = newWriter();
    // A run of this process settles: with no run running here, the forced flush would prune everything.
    const own = startRun(w, 'run_own');
    own.chunk('试驾\n');
    own.settle();
    w.flush();
    expect(batchCount()).toBe(2);
    expect(journal().map((r) => [r.runId, r.seq])).toEqual([
      ['run_stale', 1],
      ['run_own', 1],
      ['run_own', 2],
    ]);

    // Recovery settles the stale run, flushes, and only then says it is done.
    const s = (await repo.stored('run_stale'))!;
    expect(s.frames).toEqual(stale.frames);
    const recovered = new FakeRun('run_stale', w, { frames: s.frames, storedSeq: s.storedSeq, text: s.text });
    recovered.settle('interrupted');
    w.flush();
    expect(batchCount()).toBe(3);
    expect(settled('run_stale').map((f) => f.data)).toEqual(recovered.frames);

    w.recovered();
    const next = startRun(w, 'run_next');
    next.chunk('下单\n');
    next.settle();
    w.flush();
    expect(batchCount()).toBe(0);
    expect(await repo.framesAfter('run_stale', 0)).toEqual(recovered.frames);
    expect(await repo.framesAfter('run_own', 0)).toEqual(own.frames);
    expect(await repo.framesAfter('run_next', 0)).toEqual(next.frames);
    expect(await repo.stored('run_stale')).toMatchObject({ text: '看车\n', storedSeq: 2 });
  });
});
