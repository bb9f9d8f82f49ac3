import { describe, expect, it } from 'vitest';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { getRun, oneTo, seqs, storedFrames, TestWsClient, useWsServer } from './test-ws-client.js';

/** Runs of a user, newest first (REST list). */
async function runsOf(s: TestServer, userId: string): Promise<string[]> {
  const res = await deadline(fetch(`${s.url}/api/v1/runs?userId=${userId}&limit=50`), 3000, 'GET /runs');
  return ((await res.json()) as { items: { id: string }[] }).items.map((r) => r.id);
}

const post = (s: TestServer, body: unknown) =>
  deadline(
    fetch(`${s.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
    3000,
    'POST /runs',
  );

describe('start keys make a start safe to retry', () => {
  const ws = useWsServer({ BUILTIN_PIECES_PER_SECOND: 400, BUILTIN_FIRST_PIECE_MS: 0 });

  it('a start retried with its key, on the same or another socket, returns the run it started', async () => {
    const s = ws.server;
    const a = await ws.connect();
    const first = await a.request({ type: 'start', userId: 'user_0021', key: 'board-key-0001' });
    expect(first).toMatchObject({ type: 'ack', op: 'start' });
    if (first.type !== 'ack') throw new Error();
    // The retry comes at once (the row is still queued for the writer) and again from a new socket.
    const again = await a.request({ type: 'start', userId: 'user_0021', key: 'board-key-0001' });
    expect(again).toMatchObject({ type: 'ack', op: 'start', runId: first.runId });
    const b = await ws.connect();
    expect(await b.request({ type: 'start', userId: 'user_0021', key: 'board-key-0001' })).toMatchObject({
      type: 'ack',
      runId: first.runId,
    });
    // The new socket watches the run from its first frame, like any start.
    const frames = await b.settled(first.runId!);
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    expect(b.rawFrames(first.runId!)).toEqual(await storedFrames(s, first.runId!));
    expect(await runsOf(s, 'user_0021')).toEqual([first.runId]);

    // After the run ended the key still answers with it; a start without a key is a new run.
    expect(await b.request({ type: 'start', userId: 'user_0021', key: 'board-key-0001' })).toMatchObject({
      runId: first.runId,
    });
    const fresh = await b.start('user_0021');
    expect(fresh).not.toBe(first.runId);
    expect(await runsOf(s, 'user_0021')).toHaveLength(2);
  });

  it('refuses a key used by another user, and a malformed key, without starting anything', async () => {
    const s = ws.server;
    const c = await ws.connect();
    const ack = await c.request({ type: 'start', userId: 'user_0022', key: 'shared-key-0002' });
    expect(ack).toMatchObject({ type: 'ack' });
    const other = await c.request({ type: 'start', userId: 'user_0023', key: 'shared-key-0002' });
    expect(other).toMatchObject({ type: 'request_error', code: 'bad_request' });
    const bad = await c.request({ type: 'start', userId: 'user_0023', key: 'no spaces allowed!' });
    expect(bad).toMatchObject({ type: 'request_error', code: 'invalid_message' });
    expect(await runsOf(s, 'user_0023')).toEqual([]);
  });

  it('REST: 201 for the first start with a key, 200 with the same run for a retry, 400 for a bad key', async () => {
    const s = ws.server;
    const r1 = await post(s, { userId: 'user_0024', key: 'rest-key-0003' });
    expect(r1.status).toBe(201);
    const { runId } = (await r1.json()) as { runId: string };
    const r2 = await post(s, { userId: 'user_0024', key: 'rest-key-0003' });
    expect(r2.status).toBe(200);
    expect(await r2.json()).toMatchObject({ runId });
    const r3 = await post(s, { userId: 'user_0024', key: 'x' });
    expect(r3.status).toBe(400);
    expect(await r3.json()).toMatchObject({ error: { code: 'bad_request' } });
    expect(await runsOf(s, 'user_0024')).toEqual([runId]);
  });
});

describe('start keys and the per-socket run limit', () => {
  const ws = useWsServer({ WS_MAX_RUNS_PER_SOCKET: 1, BUILTIN_PIECES_PER_SECOND: 40 });

  it('a retried start of the run the socket already has is answered, not refused as over the limit', async () => {
    const a = await ws.connect();
    const first = await a.request({ type: 'start', userId: 'user_0026', key: 'limit-key-0005' });
    if (first.type !== 'ack') throw new Error(JSON.stringify(first));
    expect(await a.request({ type: 'start', userId: 'user_0026', key: 'limit-key-0005' })).toMatchObject({
      type: 'ack',
      runId: first.runId,
    });
    // A start of a new run is still held to the limit while that run streams.
    expect(await a.request({ type: 'start', userId: 'user_0027', key: 'limit-key-0006' })).toMatchObject({
      type: 'request_error',
      code: 'too_many_runs',
    });
    expect(await runsOf(ws.server, 'user_0027')).toEqual([]);
  });
});

describe('start keys across a restart', () => {
  it('a key sent before a restart still finds its run afterwards', async () => {
    const s1 = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 400, BUILTIN_FIRST_PIECE_MS: 0 });
    let s2: TestServer | undefined;
    try {
      const a = await TestWsClient.connect(s1);
      const ack = await a.request({ type: 'start', userId: 'user_0025', key: 'restart-key-0004' });
      if (ack.type !== 'ack') throw new Error(JSON.stringify(ack));
      await a.settled(ack.runId!);
      await a.close();
      await s1.close();
      s2 = await startTestServer({}, s1.dbPath);
      const b = await TestWsClient.connect(s2);
      expect(await b.request({ type: 'start', userId: 'user_0025', key: 'restart-key-0004' })).toMatchObject({
        type: 'ack',
        runId: ack.runId,
      });
      expect((await getRun(s2, ack.runId!)).status).toBe('done');
      await b.close();
    } finally {
      await s2?.close();
      await s1.dispose();
    }
  });
});
