import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRunFrame } from '@app/shared';
import { startTestServer } from '../test-support/test-server.js';
import { getRun, oneTo, seqs, storedFrames, TestWsClient, useWsServer } from './test-ws-client.js';

/** Subscribes from `after`, waits for the run's end (or just the ack when nothing is left), returns the reply and frames. */
async function subscribeFrom(c: TestWsClient, runId: string, after: number) {
  const ack = await c.request({ type: 'subscribe', runId, after });
  if (ack.type !== 'ack') throw new Error(`subscribe failed: ${JSON.stringify(ack)}`);
  // Whatever the server sends for this subscription precedes the pong.
  await c.alive();
  return { ack, frames: c.frames(runId), raw: c.rawFrames(runId) };
}

describe('subscribe with a cursor', () => {
  const ws = useWsServer({ BUILTIN_PIECES_PER_SECOND: 500, BUILTIN_FIRST_PIECE_MS: 0 });
  const { connect } = ws;

  it('on a live run: exactly frames n+1… and then the live ones', async () => {
    const a = await connect();
    const runId = await a.start('user_0007');
    await a.framesOf(runId, 40);
    const b = await connect();
    const n = 17;
    const ack = await b.request({ type: 'subscribe', runId, after: n });
    expect(ack).toMatchObject({ type: 'ack', op: 'subscribe', runId, status: 'running' });
    const [fa, fb] = await Promise.all([a.settled(runId), b.settled(runId)]);
    expect(seqs(fb)).toEqual(oneTo(fa.length, n + 1));
    expect(b.rawFrames(runId)).toEqual(a.rawFrames(runId).slice(n));
    expect(b.rawFrames(runId)).toEqual((await storedFrames(ws.server, runId)).slice(n));
  });

  it('on a finished run: exactly frames n+1…; after = lastSeq gives nothing but the ack', async () => {
    const a = await connect();
    const runId = await a.start('user_0003');
    const all = await a.settled(runId);
    const last = all.length;
    for (const n of [0, 1, 50, last - 1]) {
      const c = await connect();
      const { ack, raw } = await subscribeFrom(c, runId, n);
      expect(ack).toMatchObject({ lastSeq: last, status: 'done' });
      expect(raw).toEqual(a.rawFrames(runId).slice(n));
    }
    const c = await connect();
    const { ack, frames } = await subscribeFrom(c, runId, last);
    expect(ack).toMatchObject({ type: 'ack', op: 'subscribe', runId, lastSeq: last, status: 'done' });
    expect(frames).toEqual([]);
    expect(c.received.filter((r) => isRunFrame(r.msg))).toEqual([]);
  });

  it('a socket killed at any stage: reconnecting from the last seq seen misses and repeats nothing', async () => {
    ws.server.builtin!.setPace({ piecesPerSecond: 300 });
    try {
      // Kill points: right at the ack, after the first frame, early, mid-run, late, after done.
      const stages: { user: string; killAfter: number | 'ack' | 'done' }[] = [
        { user: 'user_0002', killAfter: 'ack' },
        { user: 'user_0004', killAfter: 1 },
        { user: 'user_0005', killAfter: 12 },
        { user: 'user_0006', killAfter: 150 },
        { user: 'user_0010', killAfter: 400 },
        { user: 'user_0009', killAfter: 'done' },
      ];
      await Promise.all(
        stages.map(async ({ user, killAfter }) => {
          const first = await TestWsClient.connect(ws.server);
          const runId = await first.start(user);
          if (killAfter === 'done') await first.settled(runId);
          else if (killAfter !== 'ack') await first.framesOf(runId, killAfter);
          first.kill();
          const seen = [...first.rawFrames(runId)];
          const lastSeen = first.lastSeq(runId);
          expect(seqs(first.frames(runId))).toEqual(oneTo(lastSeen));

          const second = await connect();
          const ack = await second.request({ type: 'subscribe', runId, after: lastSeen });
          expect(ack).toMatchObject({ type: 'ack', runId });
          if (killAfter === 'done') await second.alive();
          else await second.settled(runId);
          const rest = second.rawFrames(runId);
          expect(seqs(second.frames(runId))).toEqual(
            rest.length ? oneTo(lastSeen + rest.length, lastSeen + 1) : [],
          );
          const union = [...seen, ...rest];
          const stored = await storedFrames(ws.server, runId);
          expect(union).toEqual(stored);
          expect(JSON.parse(stored.at(-1)!)).toMatchObject({ type: 'done' });
          expect((await getRun(ws.server, runId)).status).toBe('done');
        }),
      );
    } finally {
      ws.server.builtin!.setPace({ piecesPerSecond: 500 });
    }
  });

  it('on a run from before a server restart: the same cursor semantics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-ws-restart-'));
    const dbPath = join(dir, 'test.db');
    try {
      const a = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 0, BUILTIN_FIRST_PIECE_MS: 0 }, dbPath);
      let runId: string;
      let before: string[];
      try {
        const c = await TestWsClient.connect(a);
        runId = await c.start('user_0007');
        await c.settled(runId);
        before = c.rawFrames(runId);
        await c.close();
      } finally {
        await a.dispose();
      }
      const b = await startTestServer({}, dbPath);
      try {
        const last = before.length;
        for (const n of [0, 5, last - 2, last]) {
          const c = await connect(b);
          const { ack, raw } = await subscribeFrom(c, runId, n);
          expect(ack).toMatchObject({ type: 'ack', op: 'subscribe', runId, lastSeq: last, status: 'done' });
          expect(raw).toEqual(before.slice(n));
        }
      } finally {
        await ws.closeAll();
        await b.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
