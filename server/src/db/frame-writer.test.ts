import type { ExtractedEvent, RejectedLine, RunStatus } from '@app/shared';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameWriter, type PatchSource, type RunPatch } from './frame-writer.js';
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

  /** Appends a frame whose JSON leads with its type, as every real frame does. */
  emit(type: string, fields: Record<string, unknown> = {}): string {
    const seq = this.frames.length + 1;
    const json = JSON.stringify({ type, runId: this.id, seq, ...fields });
    this.frames.push(json);
    this.writer.frame(this, seq, json);
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
  const journal = (runId?: string) =>
    db
      .prepare(
        `SELECT run_id AS runId, seq, type, data FROM frame_journal ${runId ? 'WHERE run_id = ?' : ''} ORDER BY id`,
      )
      .all(...(runId ? [runId] : [])) as { runId: string; seq: number; type: string; data: string }[];
  const settled = (runId: string) =>
    db.prepare('SELECT seq, type, data FROM run_frames WHERE run_id = ? ORDER BY seq').all(runId) as {
      seq: number;
      type: string;
      data: string;
    }[];

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

  it('migrates to v2 with the frame_journal table', () => {
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    const cols = (db.prepare('PRAGMA table_info(frame_journal)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    expect(cols).toEqual(['id', 'run_id', 'seq', 'type', 'data']);
  });

  it('journals the frames of a running run, not run_frames, and reads rebuild the run from them', () => {
    const w = newWriter();
    const run = startRun(w, 'run_a');
    const other = startRun(w, 'run_b');
    const f1 = run.chunk('看车');
    other.chunk('别的用户');
    const f2 = run.emit('progress', { stage: 'generating', message: '模型开始输出…', percent: 0 });
    const f3 = run.chunk('，试驾\n');
    other.chunk('……');
    run.event(1);
    run.rejected(2);
    w.flush();

    expect(settled('run_a')).toEqual([]);
    expect(journal('run_a')).toEqual([
      { runId: 'run_a', seq: 1, type: 'llm_chunk', data: f1 },
      { runId: 'run_a', seq: 2, type: 'progress', data: f2 },
      { runId: 'run_a', seq: 3, type: 'llm_chunk', data: f3 },
    ]);
    // Stored as raw UTF-8, not \u escapes, and read back byte for byte.
    expect(f1).toBe('{"type":"llm_chunk","runId":"run_a","seq":1,"content":"看车"}');
    expect(journal('run_a')[0]!.data).toContain('"content":"看车"');
    expect(repo.framesAfter('run_a', 0)).toEqual([f1, f2, f3]);
    expect(repo.framesAfter('run_a', 1)).toEqual([f2, f3]);
    expect(repo.framesAfter('run_a', 3)).toEqual([]);
    expect(repo.framesAfter('run_b', 0)).toHaveLength(2);

    // The row holds counters (forced flush) but not the text while the run streams.
    expect(row('run_a')).toMatchObject({
      status: 'running',
      text: '',
      last_seq: 3,
      event_count: 1,
      pieces: 2,
    });
    expect(row('run_a')!.finished_at).toBeNull();

    // As a restarted server sees it: the row still says running, so everything comes from the logs.
    db.prepare('UPDATE runs SET last_seq = 0, event_count = 0, rejected_count = 0, pieces = 0').run();
    const stored = repo.stored('run_a')!;
    expect(stored.text).toBe('看车，试驾\n');
    expect(stored.pieces).toBe(2);
    expect(stored.summary).toMatchObject({ status: 'running', lastSeq: 3, eventCount: 1, rejectedCount: 1 });
    expect(stored.frames).toEqual([f1, f2, f3]);
    expect(stored.storedSeq).toBe(0);
    expect(repo.detail('run_a')!.text).toBe('看车，试驾\n');
  });

  it('copies a settled run’s frames after storedSeq into run_frames once, in order, with its text', () => {
    const w = newWriter();
    // Started first, so its journal rows sit below run_a's and keep them from being pruned.
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
    expect(settled('run_a')).toEqual(
      all.map((data, i) => ({ seq: i + 1, type: JSON.parse(data).type, data })),
    );
    expect(settled('run_a').map((f) => f.type)).toEqual(['llm_chunk', 'llm_chunk', 'llm_chunk', 'done']);
    expect(run.storedSeq).toBe(4);
    expect(row('run_a')).toMatchObject({
      status: 'done',
      text: '看车，试驾\n下单\n',
      last_seq: 4,
      pieces: 3,
    });
    expect(row('run_a')!.finished_at).not.toBeNull();

    // Its journal rows are still there (run_keep runs), yet each frame is read exactly once.
    expect(journal('run_a').length).toBeGreaterThan(0);
    expect(repo.framesAfter('run_a', 0)).toEqual(all);
    expect(repo.framesAfter('run_a', 2)).toEqual(all.slice(2));
    const stored = repo.stored('run_a')!;
    expect(stored).toMatchObject({ text: '看车，试驾\n下单\n', storedSeq: 4, frames: all, pieces: 3 });
    expect(stored.summary.lastSeq).toBe(4);
  });

  it('appends only the frames after storedSeq when a resumed run settles again', () => {
    const w = newWriter();
    const first = startRun(w, 'run_a');
    first.chunk('看车\n');
    first.settle('cancelled');
    w.flush();
    expect(settled('run_a')).toHaveLength(2);

    // Loaded back from storage and resumed, as RunManager.open does.
    const s = repo.stored('run_a')!;
    const run = new FakeRun('run_a', w, { frames: s.frames, storedSeq: s.storedSeq, text: s.text });
    expect(run.storedSeq).toBe(2);
    run.status = 'running';
    run.emit('progress', { stage: 'resumed', message: '继续生成剩余事件…' });
    run.chunk('试驾\n');
    w.flush();
    expect(repo.framesAfter('run_a', 0)).toEqual(run.frames);
    expect(repo.stored('run_a')!.text).toBe('看车\n试驾\n');

    const frameAt = vi.spyOn(run, 'frameAt');
    run.settle();
    w.flush();
    expect(frameAt.mock.calls.map(([seq]) => seq)).toEqual([3, 4, 5]);
    expect(settled('run_a').map((f) => f.data)).toEqual(run.frames);
    expect(repo.framesAfter('run_a', 0)).toEqual(run.frames);
    expect(row('run_a')).toMatchObject({ status: 'done', text: '看车\n试驾\n', last_seq: 5 });
  });

  it('prunes the journal rows of settled runs and keeps those of running runs (forced flush)', () => {
    const w = newWriter();
    const a = startRun(w, 'run_a');
    const b = startRun(w, 'run_b');
    a.chunk('看车');
    a.chunk('试驾');
    w.flush();
    a.settle();
    b.chunk('浏览车型');
    w.flush();
    expect(journal().map((r) => [r.runId, r.seq])).toEqual([['run_b', 1]]);
    expect(repo.framesAfter('run_a', 0)).toEqual(a.frames);
    expect(repo.framesAfter('run_b', 0)).toEqual(b.frames);

    // A run settling after a running run's first journal row keeps its rows until that run settles.
    const c = startRun(w, 'run_c');
    c.chunk('询价');
    b.chunk('下单');
    c.settle();
    w.flush();
    expect(journal().map((r) => [r.runId, r.seq])).toEqual([
      ['run_b', 1],
      ['run_c', 1],
      ['run_b', 2],
      ['run_c', 2],
    ]);
    expect(repo.framesAfter('run_c', 0)).toEqual(c.frames);

    b.settle('error');
    w.flush();
    expect(journal()).toEqual([]);
    expect(repo.framesAfter('run_b', 0)).toEqual(b.frames);
    expect(repo.framesAfter('run_c', 0)).toEqual(c.frames);
    expect(row('run_b')).toMatchObject({ status: 'error', text: '浏览车型下单' });
  });

  it('prunes on a timer tick when the patch is due (patchMs 0)', async () => {
    const w = newWriter(5, 0);
    const a = startRun(w, 'run_a');
    const b = startRun(w, 'run_b');
    a.chunk('看车');
    a.settle();
    b.chunk('试驾');
    await until(() => row('run_a')?.status === 'done');
    expect(journal().map((r) => r.runId)).toEqual(['run_b']);
    expect(settled('run_a').map((f) => f.data)).toEqual(a.frames);
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
    expect(repo.eventsOfRun('run_a')).toHaveLength(1); // events are not held back

    run.chunk('试驾');
    await until(() => journal('run_a').length === 2);
    expect(row('run_a')!.last_seq).toBe(0);

    w.flush();
    expect(row('run_a')).toMatchObject({ last_seq: 2, event_count: 1, pieces: 2 });

    // A run that settles is written on the next tick, patch due or not.
    const done = startRun(w, 'run_done');
    done.chunk('下单');
    done.settle();
    await until(() => row('run_done')?.status === 'done');
    expect(row('run_done')).toMatchObject({ text: '下单', last_seq: 2 });
    expect(settled('run_done')).toHaveLength(2);
    // Not a patch-due tick: nothing pruned, and the read still returns each frame once.
    expect(journal('run_done')).toHaveLength(2);
    expect(repo.framesAfter('run_done', 0)).toEqual(done.frames);
  });

  it('writes a queued run row in the same flush as its first frames, events and rejected lines', async () => {
    const w = newWriter();
    const run = startRun(w, 'run_a');
    run.chunk('看车');
    run.event(1);
    run.rejected(2);
    expect(row('run_a')).toBeUndefined();
    expect(journal()).toEqual([]);
    w.flush(); // the run row goes first, or events' foreign key would fail
    expect(row('run_a')).toMatchObject({ status: 'running', last_seq: 1 });
    expect(journal('run_a')).toHaveLength(1);
    expect(repo.eventsOfRun('run_a')).toEqual([eventOf('run_a', 1)]);
    expect(repo.rejectedOfRun('run_a')).toEqual([
      { lineNo: 2, text: '随便聊聊', code: 'prose', reason: '不是事件行' },
    ]);

    // On the timer, too: the row and its first frame appear together.
    const tw = newWriter(5);
    const timed = startRun(tw, 'run_t');
    timed.chunk('试驾');
    await until(() => row('run_t') !== undefined);
    expect(journal('run_t')).toHaveLength(1);
    expect(repo.stored('run_t')).toMatchObject({ behaviourIds: ['b0001-01'], text: '试驾' });
  });

  // Recovery flushes between opening one stale run and the next: the prune must not take the rows of
  // the runs not yet loaded.
  it('keeps journal rows a previous process left for runs still marked running', () => {
    const before = newWriter();
    const a = startRun(before, 'run_a');
    const b = startRun(before, 'run_b');
    a.chunk('看车\n');
    b.chunk('试驾\n');
    before.flush(); // …and the process dies with both running

    const w = newWriter();
    const sa = repo.stored('run_a')!;
    const recovered = new FakeRun('run_a', w, { frames: sa.frames, storedSeq: sa.storedSeq, text: sa.text });
    recovered.settle('interrupted');
    w.flush(); // what RunManager.open('run_b') does next
    const sb = repo.stored('run_b')!;
    expect(sb.frames).toEqual(b.frames);
    expect(sb.text).toBe('试驾\n');
  });
});
