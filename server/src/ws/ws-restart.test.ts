import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunFrame } from '@app/shared';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { eventKeys, getRun, oneTo, seqs, storedFrames, TestWsClient, textOf } from './test-ws-client.js';

describe('a run left running by a server that died', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'es-ws-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('comes back interrupted with its frames and a final `interrupted` frame, and resume completes it', async () => {
    const crashed = join(dir, 'crashed.db');
    // Server A streams a slow run; mid-run we take the database file exactly as a crash would leave it
    // (every batch written, the run still `running`, no shutdown), then stop A.
    const a = await startTestServer(
      { BUILTIN_PIECES_PER_SECOND: 150, BUILTIN_FIRST_PIECE_MS: 0 },
      join(dir, 'a.db'),
    );
    let runId: string;
    let onDisk: string[];
    let seenOnA: RunFrame[];
    try {
      const c = await TestWsClient.connect(a);
      runId = await c.start('user_0007');
      await c.framesOf(runId, 1, 'event', 5000);
      const chunks = c.frames(runId).filter((f) => f.type === 'llm_chunk').length;
      await c.framesOf(runId, chunks + 4, 'llm_chunk');
      await a.ctx.manager.flushWrites();
      a.ctx.db.exec(`VACUUM INTO '${crashed}'`);
      onDisk = await a.ctx.runs.framesAfter(runId, 0);
      seenOnA = [...c.frames(runId)];
      await c.close();
    } finally {
      await a.dispose();
    }
    expect(onDisk.length).toBeGreaterThan(20);
    expect(JSON.parse(onDisk.at(-1)!).type).not.toMatch(/done|cancelled|error/);

    let b: TestServer | undefined;
    try {
      b = await startTestServer(
        { BUILTIN_PIECES_PER_SECOND: 1000, BUILTIN_FIRST_PIECE_MS: 0, RESUME_INTERRUPTED: 'off' },
        crashed,
      );
      const before = await getRun(b, runId);
      expect(before.status).toBe('interrupted');
      const k = onDisk.length;
      expect(before.lastSeq).toBe(k + 1);

      const w = await TestWsClient.connect(b);
      const ack = await w.request({ type: 'subscribe', runId, after: 0 });
      expect(ack).toMatchObject({
        type: 'ack',
        op: 'subscribe',
        runId,
        status: 'interrupted',
        lastSeq: k + 1,
      });
      await w.alive();
      const kept = w.frames(runId);
      expect(seqs(kept)).toEqual(oneTo(k + 1));
      expect(w.rawFrames(runId).slice(0, k)).toEqual(onDisk);
      // What a client of A saw is the same log.
      expect(kept.slice(0, Math.min(k, seenOnA.length))).toStrictEqual(seenOnA.slice(0, k));
      expect(kept[k]).toMatchObject({ type: 'error', code: 'interrupted', retryable: true, seq: k + 1 });
      expect(before.text).toBe(textOf(kept));

      const resumed = await w.request({ type: 'resume', runId });
      expect(resumed).toMatchObject({ type: 'ack', op: 'resume', runId });
      const all = await w.until(
        () => (w.frames(runId).at(-1)?.type === 'done' ? w.frames(runId) : undefined),
        10_000,
        'resumed run done',
      );
      expect(seqs(all)).toEqual(oneTo(all.length));
      // The half line the crash left is settled as cut off (and regenerated), then generation goes on.
      expect(all[k + 1]).toMatchObject({
        type: 'progress',
        stage: 'line_rejected',
        rejected: { code: 'cut_off' },
      });
      expect(all[k + 2]).toMatchObject({ type: 'progress', stage: 'resumed' });

      // The same user, uninterrupted, on the same server.
      const ref = await w.start('user_0007');
      await w.settled(ref);
      const reference = eventKeys(await getRun(b, ref));

      const after = await getRun(b, runId);
      expect(after.status).toBe('done');
      expect(after.text).toBe(textOf(all));
      expect(eventKeys(after)).toEqual(reference);
      expect(await storedFrames(b, runId)).toEqual(w.rawFrames(runId));
      await w.close();
    } finally {
      await b?.dispose();
    }
  });

  it('by default the restarted server continues it by itself, to the events of an uninterrupted run', async () => {
    const crashed = join(dir, 'crashed-auto.db');
    const a = await startTestServer(
      { BUILTIN_PIECES_PER_SECOND: 150, BUILTIN_FIRST_PIECE_MS: 0 },
      join(dir, 'a2.db'),
    );
    let runId: string;
    let cancelledId: string;
    let onDisk: string[];
    try {
      const c = await TestWsClient.connect(a);
      // A run a person cancelled is never continued by itself.
      cancelledId = await c.start('user_0008');
      await c.framesOf(cancelledId, 3, 'llm_chunk');
      await c.request({ type: 'cancel', runId: cancelledId });
      await c.settled(cancelledId);
      runId = await c.start('user_0007');
      await c.framesOf(runId, 1, 'event', 5000);
      await a.ctx.manager.flushWrites();
      a.ctx.db.exec(`VACUUM INTO '${crashed}'`);
      onDisk = await a.ctx.runs.framesAfter(runId, 0);
      await c.close();
    } finally {
      await a.dispose();
    }
    let b: TestServer | undefined;
    try {
      b = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 1000, BUILTIN_FIRST_PIECE_MS: 0 }, crashed);
      const w = await TestWsClient.connect(b);
      const ack = await w.request({ type: 'subscribe', runId, after: 0 });
      expect(ack).toMatchObject({ type: 'ack', op: 'subscribe', runId });
      const all = await w.until(
        () => (w.frames(runId).at(-1)?.type === 'done' ? w.frames(runId) : undefined),
        10_000,
        'continued run done',
      );
      const k = onDisk.length;
      expect(seqs(all)).toEqual(oneTo(all.length));
      expect(w.rawFrames(runId).slice(0, k)).toEqual(onDisk);
      expect(all[k]).toMatchObject({ type: 'error', code: 'interrupted' });
      expect(all.find((f) => f.type === 'progress' && f.stage === 'resumed')).toMatchObject({
        message: '服务重启后自动继续生成…',
      });
      const ref = await w.start('user_0007');
      await w.settled(ref);
      const after = await getRun(b, runId);
      expect(after.status).toBe('done');
      expect(after.text).toBe(textOf(all));
      expect(eventKeys(after)).toEqual(eventKeys(await getRun(b, ref)));
      expect((await getRun(b, cancelledId)).status).toBe('cancelled');
      await w.close();
    } finally {
      await b?.dispose();
    }
  });

  it('a run found interrupted more than RESUME_INTERRUPTED_MAX times is left for a person', async () => {
    const crashed = join(dir, 'crashed-loop.db');
    const a = await startTestServer(
      { BUILTIN_PIECES_PER_SECOND: 150, BUILTIN_FIRST_PIECE_MS: 0 },
      join(dir, 'a3.db'),
    );
    let runId: string;
    try {
      const c = await TestWsClient.connect(a);
      runId = await c.start('user_0007');
      await c.framesOf(runId, 5, 'llm_chunk');
      await a.ctx.manager.flushWrites();
      a.ctx.db.exec(`VACUUM INTO '${crashed}'`);
      await c.close();
    } finally {
      await a.dispose();
    }
    // Each start finds it running again (as if the continued run took the server down each time).
    const markRunning = () => {
      const db = new Database(crashed);
      db.prepare(`UPDATE runs SET status = 'running' WHERE id = ?`).run(runId);
      db.close();
    };
    const statuses: string[] = [];
    for (let i = 0; i < 2; i++) {
      markRunning();
      const b = await startTestServer(
        { BUILTIN_PIECES_PER_SECOND: 1, BUILTIN_FIRST_PIECE_MS: 60_000, RESUME_INTERRUPTED_MAX: 1 },
        crashed,
      );
      try {
        statuses.push((await getRun(b, runId)).status);
      } finally {
        // A clean stop cancels the continued run (still waiting for its first piece); markRunning undoes it.
        await b.dispose();
      }
    }
    expect(statuses).toEqual(['running', 'interrupted']);
  });

  it('a run a clean stop cancelled goes on at the next start; one a person cancelled does not', async () => {
    const db = join(dir, 'clean-stop.db');
    const a = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 100, BUILTIN_FIRST_PIECE_MS: 0 }, db);
    let runId: string;
    let byPerson: string;
    try {
      const c = await TestWsClient.connect(a);
      byPerson = await c.start('user_0008');
      await c.framesOf(byPerson, 3, 'llm_chunk');
      await c.request({ type: 'cancel', runId: byPerson });
      await c.settled(byPerson);
      runId = await c.start('user_0007');
      await c.framesOf(runId, 10, 'llm_chunk');
      await c.close();
    } finally {
      await a.dispose();
    }
    let b: TestServer | undefined;
    try {
      b = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 1000, BUILTIN_FIRST_PIECE_MS: 0 }, db);
      const w = await TestWsClient.connect(b);
      await w.request({ type: 'subscribe', runId, after: 0 });
      const all = await w.until(
        () => (w.frames(runId).at(-1)?.type === 'done' ? w.frames(runId) : undefined),
        10_000,
        'the stopped run done',
      );
      expect(all.find((f) => f.type === 'cancelled')).toMatchObject({ reason: 'shutdown' });
      expect(seqs(all)).toEqual(oneTo(all.length));
      const ref = await w.start('user_0007');
      await w.settled(ref);
      expect(eventKeys(await getRun(b, runId))).toEqual(eventKeys(await getRun(b, ref)));
      expect((await getRun(b, byPerson)).status).toBe('cancelled');
      await w.close();
    } finally {
      await b?.dispose();
    }
  });
});
