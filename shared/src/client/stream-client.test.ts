import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline, startTestServer, type TestServer } from '../../../server/src/test-support/test-server.js';
import { StreamClient } from './stream-client.js';
import { getRun, oneToN, recordFrames, recordingWebSocket, seqsOf, textOf, wsUrl } from './test-kit.js';
import { ClientError, type StateChange } from './types.js';

describe('StreamClient against the real server', () => {
  let s: TestServer;
  const clients: StreamClient[] = [];
  const client = (extra: Partial<ConstructorParameters<typeof StreamClient>[0]> = {}) => {
    const c = new StreamClient({ url: wsUrl(s.url), WebSocket: recordingWebSocket().Ctor, ...extra });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await s.dispose();
  });

  it('starts a run and delivers every frame once; the text equals the stored text', async () => {
    const c = client();
    const states: StateChange[] = [];
    c.onState((e) => states.push(e));
    const rec = recordFrames(c);
    const runId = await deadline(c.start('user_0007'), 5000, 'start');
    const frames = await rec.settled(runId);
    expect(frames[0]!.type).toBe('start');
    expect(frames.at(-1)!.type).toBe('done');
    expect(seqsOf(frames)).toEqual(oneToN(frames.length));
    const stored = await getRun(s.url, runId);
    expect(textOf(frames)).toBe(stored.text);
    expect(stored.lastSeq).toBe(frames.length);
    expect(c.lastSeq(runId)).toBe(frames.length);
    expect(c.hello?.model).toContain('built-in');
    expect(c.state).toBe('connected');
    expect(states[0]).toEqual({ oldState: 'connecting', newState: 'connected' });
  });

  it('rejects a request the server refuses, with its code', async () => {
    const c = client();
    const err = await c.start('user_9999').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'user_not_found' });
    await expect(c.watch('run_doesnotexist00')).rejects.toMatchObject({ code: 'run_not_found' });
    await expect(c.cancel('run_doesnotexist00')).rejects.toMatchObject({ code: 'run_not_found' });
  });

  it('two clients watching one run see identical frame sequences', async () => {
    s.builtin!.setPace({ piecesPerSecond: 200, firstPieceDelayMs: 0 });
    try {
      const a = client();
      const b = client();
      const ra = recordFrames(a);
      const rb = recordFrames(b);
      const runId = await a.start('user_0003');
      await ra.waitFor((f) => f.runId === runId && f.type === 'llm_chunk', 5000, 'a first chunk');
      const info = await b.watch(runId);
      expect(info.status).toBe('running');
      const [fa, fb] = await Promise.all([ra.settled(runId), rb.settled(runId)]);
      expect(fb).toEqual(fa);
      expect(textOf(fa)).toBe((await getRun(s.url, runId)).text);
    } finally {
      s.builtin!.setPace({ piecesPerSecond: 400, firstPieceDelayMs: 20 });
    }
  });

  it('cancel stops the model; resume continues on the same watch and on a fresh client', async () => {
    s.builtin!.setPace({ piecesPerSecond: 100, firstPieceDelayMs: 0 });
    try {
      const c = client();
      const rec = recordFrames(c);
      const runId = await c.start('user_0007');
      await rec.waitFor(
        (f) => f.runId === runId && f.type === 'llm_chunk' && f.seq > 12,
        5000,
        'some chunks',
      );
      const closed = new Promise((ok) => s.builtin!.events.once('closed', ok));
      await c.cancel(runId);
      await rec.waitFor((f) => f.runId === runId && f.type === 'cancelled', 3000, 'cancelled frame');
      await deadline(closed, 2000, 'the model closing');
      expect((await getRun(s.url, runId)).status).toBe('cancelled');

      await c.resume(runId);
      await rec.waitFor((f) => f.runId === runId && f.type === 'done', 10_000, 'done after resume');
      const frames = rec.of(runId);
      expect(seqsOf(frames)).toEqual(oneToN(frames.length));
      expect(textOf(frames)).toBe((await getRun(s.url, runId)).text);

      // Another run, resumed by a client that was not watching it: auto-watched from the resume on.
      const runId2 = await c.start('user_0004');
      await rec.waitFor(
        (f) => f.runId === runId2 && f.type === 'llm_chunk' && f.seq > 8,
        5000,
        'chunks of run 2',
      );
      await c.cancel(runId2);
      const cancelled = await rec.waitFor(
        (f) => f.runId === runId2 && f.type === 'cancelled',
        3000,
        'cancel 2',
      );
      const other = client();
      const orec = recordFrames(other);
      await other.resume(runId2);
      const tail = await orec.settled(runId2);
      expect(tail[0]!.seq).toBe(cancelled.seq + 1);
      expect(seqsOf(tail)).toEqual(oneToN(tail.at(-1)!.seq).slice(cancelled.seq));
      expect(tail.at(-1)!.type).toBe('done');
      await expect(other.resume(runId2)).rejects.toMatchObject({ code: 'run_not_resumable' });
    } finally {
      s.builtin!.setPace({ piecesPerSecond: 400, firstPieceDelayMs: 20 });
    }
  });

  it('watch from a cursor, unwatch stops delivery', async () => {
    const c = client();
    const rec = recordFrames(c);
    const runId = await c.start('user_0002');
    const full = await rec.settled(runId);
    const w = client();
    const wrec = recordFrames(w);
    const info = await w.watch(runId, 5);
    expect(info).toEqual({ lastSeq: full.length, status: 'done' });
    await wrec.waitFor((f) => f.seq === full.length, 3000, 'the tail');
    expect(wrec.of(runId)).toEqual(full.slice(5));
    await w.unwatch(runId);
    expect(w.lastSeq(runId)).toBe(0);
    await expect(w.watch(runId, full.length + 5)).rejects.toMatchObject({ code: 'invalid_cursor' });
  });

  it('waits while the network is offline and connects when it comes back; queued requests go out', async () => {
    let online = false;
    const subs = new Set<(online: boolean) => void>();
    const network = {
      onLine: () => online,
      subscribe: (cb: (o: boolean) => void) => (subs.add(cb), () => subs.delete(cb)),
    };
    const { Ctor, sockets } = recordingWebSocket();
    const c = client({ WebSocket: Ctor, network });
    expect(c.state).toBe('offline');
    const rec = recordFrames(c);
    const started = c.start('user_0001');
    await new Promise((ok) => setTimeout(ok, 50));
    expect(sockets).toHaveLength(0);
    online = true;
    for (const cb of subs) cb(true);
    const runId = await started;
    const frames = await rec.settled(runId);
    expect(frames.at(-1)!.type).toBe('done');
    expect(sockets).toHaveLength(1);
  });

  it('a request while the server is unreachable times out', async () => {
    const down = await startTestServer();
    const url = wsUrl(down.url);
    await down.dispose();
    const c = client({ url, requestTimeoutMs: 300, backoff: { baseMs: 10, maxMs: 50 } });
    const reasons: string[] = [];
    c.onState((e) => reasons.push(`${e.newState}:${e.reason ?? ''}`));
    await expect(c.start('user_0001')).rejects.toMatchObject({ code: 'timeout' });
    expect(reasons[0]).toMatch(/^reconnecting:.*ECONNREFUSED/);
    c.close();
    expect(c.state).toBe('closed');
    await expect(c.start('user_0001')).rejects.toMatchObject({ code: 'closed' });
  });
});
