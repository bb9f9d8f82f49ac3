import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, RUN_ID_RE, isRunFrame, type RunFrame } from '@app/shared';
import { readSse } from '../test-support/sse-client.js';
import { getRun, oneTo, poll, rid, seqs, storedFrames, textOf, useWsServer } from './test-ws-client.js';

/** The `data:` lines of an SSE body, exact text. */
const sseDataLines = (raw: string) =>
  raw
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice('data: '.length));

describe('WebSocket channel: runs', () => {
  const ws = useWsServer({ BUILTIN_PIECES_PER_SECOND: 1000, BUILTIN_FIRST_PIECE_MS: 10 });
  const { connect } = ws;

  it('says hello first, acks start, streams seq 1..n to done, and matches REST and SSE exactly', async () => {
    const c = await connect();
    const hello = c.hello();
    expect(hello).toEqual({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      model: 'builtin-rules-v1 (built-in)',
      limits: {
        maxMessageBytes: ws.server.ctx.config.WS_MAX_MESSAGE_BYTES,
        maxRunsPerSocket: ws.server.ctx.config.WS_MAX_RUNS_PER_SOCKET,
        heartbeatMs: ws.server.ctx.config.WS_HEARTBEAT_MS,
      },
    });

    const requestId = rid('start');
    c.send({ type: 'start', userId: 'user_0007', requestId });
    const ack = await c.reply(requestId);
    expect(ack).toMatchObject({ type: 'ack', op: 'start', requestId });
    if (ack.type !== 'ack') throw new Error('no ack');
    expect(ack.runId).toMatch(RUN_ID_RE);
    const frames = await c.settled(ack.runId);

    // The ack comes before any frame of the run, and nothing but this run's frames follow it.
    const ackAt = c.received.findIndex((r) => r.msg === ack);
    const firstFrameAt = c.received.findIndex((r) => isRunFrame(r.msg));
    expect(ackAt).toBeGreaterThan(0);
    expect(firstFrameAt).toBe(ackAt + 1);
    expect(c.received.slice(ackAt + 1).every((r) => isRunFrame(r.msg) && r.msg.runId === ack.runId)).toBe(
      true,
    );

    expect(frames.length).toBeGreaterThan(100);
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    expect(frames[0]).toMatchObject({ type: 'start', userId: 'user_0007', seq: 1 });
    expect(frames.at(-1)!.type).toBe('done');
    expect(frames.filter((f) => f.type === 'done')).toHaveLength(1);

    const stored = await getRun(ws.server, ack.runId);
    expect(stored.status).toBe('done');
    expect(stored.lastSeq).toBe(frames.length);
    expect(textOf(frames)).toBe(stored.text);
    expect(frames.filter((f) => f.type === 'event')).toHaveLength(stored.events.length);

    // The SSE stream of the same run: `id:` = seq, and the very same JSON, byte for byte.
    const sse = await readSse(`${ws.server.url}/api/v1/runs/${ack.runId}/stream`);
    expect(sse.status).toBe(200);
    expect(sse.frames.map((f) => f.id)).toEqual(frames.map((f) => String(f.seq)));
    expect(sse.frames.map((f) => f.frame)).toStrictEqual(frames);
    expect(sseDataLines(sse.raw)).toEqual(c.rawFrames(ack.runId));
    expect(await storedFrames(ws.server, ack.runId)).toEqual(c.rawFrames(ack.runId));
  });

  it('multiplexes three users on one socket, each run in order and gapless', async () => {
    const c = await connect();
    const users = ['user_0003', 'user_0010', 'user_0016'];
    const ids = users.map(() => rid('start'));
    users.forEach((userId, i) => c.send({ type: 'start', userId, requestId: ids[i] }));
    const acks = await Promise.all(ids.map((id) => c.reply(id)));
    const runIds = acks.map((a) => {
      if (a.type !== 'ack') throw new Error(`start failed: ${JSON.stringify(a)}`);
      return a.runId;
    });
    expect(new Set(runIds).size).toBe(3);
    const all = await Promise.all(runIds.map((id) => c.settled(id)));

    // Really interleaved: the runs' frames alternate on the wire rather than coming one run after another.
    const order = c.received.filter((r) => isRunFrame(r.msg)).map((r) => (r.msg as RunFrame).runId);
    const switches = order.filter((id, i) => i > 0 && id !== order[i - 1]).length;
    expect(switches).toBeGreaterThan(10);

    for (const [i, frames] of all.entries()) {
      expect(seqs(frames)).toEqual(oneTo(frames.length));
      expect(frames[0]).toMatchObject({ type: 'start', userId: users[i] });
      expect(frames.at(-1)!.type).toBe('done');
      const stored = await getRun(ws.server, runIds[i]!);
      expect(stored.userId).toBe(users[i]);
      expect(textOf(frames)).toBe(stored.text);
      expect(c.rawFrames(runIds[i]!)).toEqual(await storedFrames(ws.server, runIds[i]!));
    }
  });

  it('a second socket subscribing mid-run and an SSE reader see the identical frames', async () => {
    ws.server.builtin!.setPace({ piecesPerSecond: 400 });
    try {
      const a = await connect();
      const b = await connect();
      const runId = await a.start('user_0007');
      await a.framesOf(runId, 30, 'llm_chunk');

      const sub = await b.request({ type: 'subscribe', runId, after: 0 });
      expect(sub).toMatchObject({ type: 'ack', op: 'subscribe', runId, status: 'running' });
      if (sub.type !== 'ack') throw new Error();
      expect(sub.lastSeq).toBeGreaterThanOrEqual(30);
      // Joining mid-run over SSE too.
      const sse = readSse(`${ws.server.url}/api/v1/runs/${runId}/stream`);

      const [fa, fb] = await Promise.all([a.settled(runId), b.settled(runId)]);
      expect(fa.at(-1)!.type).toBe('done');
      expect(seqs(fa)).toEqual(oneTo(fa.length));
      expect(fb).toStrictEqual(fa);
      expect(b.rawFrames(runId)).toEqual(a.rawFrames(runId));
      expect((await sse).frames.map((f) => f.frame)).toStrictEqual(fa);
    } finally {
      ws.server.builtin!.setPace({ piecesPerSecond: 1000 });
    }
  });

  it('unsubscribe stops this socket’s frames; the run goes on', async () => {
    ws.server.builtin!.setPace({ piecesPerSecond: 300 });
    try {
      const c = await connect();
      const runId = await c.start('user_0010');
      await c.framesOf(runId, 20);
      const ack = await c.request({ type: 'unsubscribe', runId });
      expect(ack).toMatchObject({ type: 'ack', op: 'unsubscribe', runId });
      const ackAt = c.received.findIndex((r) => r.msg === ack);
      const got = c.frames(runId).length;
      const stored = await poll(
        async () => {
          const r = await getRun(ws.server, runId);
          return r.status === 'running' ? undefined : r;
        },
        10_000,
        'the run to finish unwatched',
      );
      expect(stored.status).toBe('done');
      await c.alive();
      expect(c.frames(runId)).toHaveLength(got);
      expect(c.received.slice(ackAt + 1).some((r) => isRunFrame(r.msg))).toBe(false);
      expect(got).toBeLessThan(stored.lastSeq);
    } finally {
      ws.server.builtin!.setPace({ piecesPerSecond: 1000 });
    }
  });
});
