import { describe, expect, it } from 'vitest';
import type { ClosedEvent } from '../model/index.js';
import { deadline } from '../test-support/test-server.js';
import { eventKeys, getRun, oneTo, rid, seqs, storedFrames, textOf, useWsServer } from './test-ws-client.js';

describe('cancel and resume over the WebSocket', () => {
  const ws = useWsServer({ BUILTIN_PIECES_PER_SECOND: 400, BUILTIN_FIRST_PIECE_MS: 0 });
  const { connect } = ws;
  /** The next response of the built-in model that ends. */
  const nextClosed = () => new Promise<ClosedEvent>((ok) => ws.server.builtin!.events.once('closed', ok));

  it('cancel aborts the upstream within 100 ms, ends with `cancelled` and keeps what was produced', async () => {
    const c = await connect();
    const runId = await c.start('user_0007');
    await c.framesOf(runId, 60, 'llm_chunk');
    const closed = nextClosed();
    const requestId = rid('cancel');
    const t0 = performance.now();
    c.send({ type: 'cancel', runId, requestId });
    const upstream = await deadline(closed, 1000, 'upstream close');
    expect(upstream.byClient).toBe(true);
    expect(upstream.completed).toBe(false);
    expect(upstream.at - t0).toBeLessThan(100);
    expect(await c.reply(requestId)).toEqual({ type: 'ack', op: 'cancel', runId, requestId });

    const frames = await c.settled(runId);
    const end = frames.at(-1)!;
    expect(end).toMatchObject({ type: 'cancelled', reason: 'client' });
    if (end.type !== 'cancelled') throw new Error();
    expect(end.usage).toMatchObject({ estimated: true });
    expect(end.usage!.completionTokens).toBeGreaterThan(0);
    expect(seqs(frames)).toEqual(oneTo(frames.length));

    // Nothing after the terminal frame, on the wire or in the log.
    await new Promise((r) => setTimeout(r, 150));
    await c.alive();
    expect(c.frames(runId)).toHaveLength(frames.length);
    expect(await storedFrames(ws.server, runId)).toEqual(c.rawFrames(runId));

    const stored = await getRun(ws.server, runId);
    expect(stored.status).toBe('cancelled');
    expect(stored.text.length).toBeGreaterThan(0);
    expect(stored.text).toBe(textOf(frames));
    expect(stored.events.length).toBeGreaterThan(0);
    expect(stored.events.length).toBe(frames.filter((f) => f.type === 'event').length);
    expect(stored.usage).toEqual(end.usage);
    expect(stored.finishedAt).not.toBeNull();
  });

  it('cancel of a finished run is refused with run_not_running and the socket keeps working', async () => {
    const c = await connect();
    ws.server.builtin!.setPace({ piecesPerSecond: 0 });
    let runId: string;
    try {
      runId = await c.start('user_0003');
      await c.settled(runId);
    } finally {
      ws.server.builtin!.setPace({ piecesPerSecond: 400 });
    }
    const r = await c.request({ type: 'cancel', runId });
    expect(r).toMatchObject({ type: 'request_error', code: 'run_not_running', retryable: false, runId });
    await c.alive();
    expect((await getRun(ws.server, runId)).status).toBe('done');
  });

  it('cancel then resume yields the events of an uninterrupted run, seq growing in the same run', async () => {
    const ref = await connect();
    const refRun = await ref.start('user_0010');
    await ref.settled(refRun);
    const reference = eventKeys(await getRun(ws.server, refRun));
    expect(reference.length).toBeGreaterThan(5);

    const a = await connect();
    const runId = await a.start('user_0010');
    await a.framesOf(runId, 2, 'event', 5000);
    await a.framesOf(runId, a.frames(runId).filter((f) => f.type === 'llm_chunk').length + 3, 'llm_chunk');
    const cancel = await a.request({ type: 'cancel', runId });
    expect(cancel.type).toBe('ack');
    const cancelled = await a.settled(runId);
    const k = cancelled.length;
    // Cancelled mid-line: the half line is settled as cut off and regenerated on resume.
    expect(textOf(cancelled).endsWith('\n')).toBe(false);
    expect(cancelled.at(-1)!.type).toBe('cancelled');
    expect((await getRun(ws.server, runId)).status).toBe('cancelled');

    // Resumed from a socket that was not watching: it gets the new frames, as does the one still subscribed.
    const b = await connect();
    const ack = await b.request({ type: 'resume', runId });
    expect(ack).toMatchObject({ type: 'ack', op: 'resume', runId });
    const [fa, fb] = await Promise.all([
      a.until(
        () => (a.frames(runId).at(-1)?.type === 'done' ? a.frames(runId) : undefined),
        10_000,
        'resumed run done on a',
      ),
      b.settled(runId),
    ]);
    expect(seqs(fa)).toEqual(oneTo(fa.length));
    expect(fa.length).toBeGreaterThan(k);
    expect(fa.filter((f) => f.type === 'start')).toHaveLength(1);
    expect(fa[k]).toMatchObject({ type: 'progress', stage: 'resumed', seq: k + 1 });
    expect(fb).toStrictEqual(fa.slice(k));
    expect(b.rawFrames(runId)).toEqual(a.rawFrames(runId).slice(k));
    // As with start, the ack precedes the frames on the socket that asked.
    const ackAt = b.received.findIndex((r) => r.msg === ack);
    const firstFrameAt = b.received.findIndex((r) => 'seq' in r.msg);
    expect(ackAt).toBeLessThan(firstFrameAt);
    expect(fa.at(-1)!.type).toBe('done');

    const stored = await getRun(ws.server, runId);
    expect(stored.status).toBe('done');
    expect(stored.lastSeq).toBe(fa.length);
    expect(stored.text).toBe(textOf(fa));
    expect(eventKeys(stored)).toEqual(reference);
    expect(await storedFrames(ws.server, runId)).toEqual(a.rawFrames(runId));

    const again = await b.request({ type: 'resume', runId });
    expect(again).toMatchObject({
      type: 'request_error',
      code: 'run_not_resumable',
      retryable: false,
      runId,
    });
    await b.alive();
  });
});
