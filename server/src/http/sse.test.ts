import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClosedEvent } from '../model/index.js';
import type { RunDetail, RunFrame } from '@app/shared';
import { readSse } from '../test-support/sse-client.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';

const extractUrl = (s: TestServer, user = 'user_0007') => `${s.url}/api/v1/events/extract/${user}/llm-stream`;
const textOf = (frames: RunFrame[]) => frames.map((f) => (f.type === 'llm_chunk' ? f.content : '')).join('');
const getRun = async (s: TestServer, id: string) =>
  (await (await fetch(`${s.url}/api/v1/runs/${id}`)).json()) as RunDetail;

describe('seed SSE endpoint', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.dispose());

  it('streams a whole run whose llm_chunk text equals the stored text', async () => {
    const r = await readSse(extractUrl(s), { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.headers.get('x-accel-buffering')).toBe('no');
    const frames = r.frames.map((f) => f.frame);
    expect(frames[0]!.type).toBe('start');
    expect(frames.at(-1)!.type).toBe('done');
    frames.forEach((f, i) => {
      expect(f.seq).toBe(i + 1);
      expect(r.frames[i]!.id).toBe(String(i + 1));
    });
    const runId = frames[0]!.runId;
    const stored = await getRun(s, runId);
    expect(stored.status).toBe('done');
    expect(textOf(frames)).toBe(stored.text);
    expect(stored.text).toContain('user_0007|');
    const events = frames.filter((f) => f.type === 'event');
    expect(events.length).toBeGreaterThan(2);
    expect(events.length).toBe(stored.events.length);
    const done = frames.at(-1)!;
    if (done.type !== 'done') throw new Error('no done');
    expect(done.events).toBe(stored.events.length);
    expect(done.usage?.completionTokens).toBeGreaterThan(0);
    expect(done.usage?.estimated).toBe(false);
    // Chinese travels as raw UTF-8, never as \u escapes.
    expect(r.raw).toContain('开始为用户 user_0007 抽象事件');
    expect(r.raw).not.toMatch(/\\u[0-9a-fA-F]{4}/);
    const progress = frames.filter((f) => f.type === 'progress');
    expect(progress.some((p) => p.type === 'progress' && p.percent > 0)).toBe(true);
  });

  it('delivers frames one by one as the model produces them, not all at the end', async () => {
    s.builtin!.setPace({ piecesPerSecond: 50, firstPieceDelayMs: 0 });
    try {
      const r = await readSse(extractUrl(s), { method: 'POST', stopAfter: 60 });
      const chunks = r.frames.filter((f) => f.frame.type === 'llm_chunk');
      const spread = chunks.at(-1)!.at - chunks[0]!.at;
      expect(chunks.length).toBeGreaterThan(20);
      // At 50 pieces/s the pieces must arrive over (pieces/50) s, not in one burst.
      expect(spread).toBeGreaterThan(((chunks.length - 1) / 50) * 1000 * 0.5);
    } finally {
      s.builtin!.setPace({ piecesPerSecond: 400, firstPieceDelayMs: 20 });
    }
  });

  it('resuming with every possible Last-Event-ID yields exactly the rest', async () => {
    const full = (await readSse(extractUrl(s, 'user_0003'), { method: 'POST' })).frames.map((f) => f.frame);
    const runId = full[0]!.runId;
    const n = full.length;
    for (let k = 0; k < n; k++) {
      const r = await readSse(`${s.url}/api/v1/runs/${runId}/stream`, {
        headers: { 'Last-Event-ID': String(k) },
      });
      expect(r.frames.map((f) => f.frame)).toEqual(full.slice(k));
    }
    const viaQuery = await readSse(`${s.url}/api/v1/runs/${runId}/stream?after=${n - 3}`);
    expect(viaQuery.frames.map((f) => f.frame)).toEqual(full.slice(n - 3));
    // EventSource reconnects to the same URL with a newer Last-Event-ID: the header wins.
    const reconnect = await readSse(`${s.url}/api/v1/runs/${runId}/stream?after=2`, {
      headers: { 'Last-Event-ID': String(n - 2) },
    });
    expect(reconnect.frames.map((f) => f.frame)).toEqual(full.slice(n - 2));
    // Nothing left on a finished run: 204, so EventSource stops reconnecting.
    const end = await fetch(`${s.url}/api/v1/runs/${runId}/stream`, {
      headers: { 'Last-Event-ID': String(n) },
    });
    expect(end.status).toBe(204);
  });

  it('keeps running when the POSTing client goes away, and a re-attach gets the rest live', async () => {
    s.builtin!.setPace({ piecesPerSecond: 100, firstPieceDelayMs: 0 });
    try {
      const first = await readSse(extractUrl(s, 'user_0010'), { method: 'POST', stopAfter: 8 });
      const got = first.frames.map((f) => f.frame);
      const runId = got[0]!.runId;
      const last = got.at(-1)!.seq;
      // Mid-run, the detail's text (rebuilt from the frame log) already holds what was sent.
      const midway = await getRun(s, runId);
      expect(midway.status).toBe('running');
      expect(midway.text.startsWith(textOf(got))).toBe(true);
      const rest = await readSse(`${s.url}/api/v1/runs/${runId}/stream?after=${last}`);
      const all = [...got, ...rest.frames.map((f) => f.frame)];
      all.forEach((f, i) => expect(f.seq).toBe(i + 1));
      expect(all.at(-1)!.type).toBe('done');
      expect(textOf(all)).toBe((await getRun(s, runId)).text);
    } finally {
      s.builtin!.setPace({ piecesPerSecond: 400, firstPieceDelayMs: 20 });
    }
  });

  it('sends a comment heartbeat', async () => {
    const hb = await startTestServer({ SSE_HEARTBEAT_MS: 30, BUILTIN_PIECES_PER_SECOND: 20 });
    try {
      const r = await readSse(extractUrl(hb), { method: 'POST', stopAfter: 6 });
      expect(r.raw).toContain(': ping\n\n');
    } finally {
      await hb.dispose();
    }
  });
});

describe('bad input gets a clear 4xx JSON error', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.dispose());

  const expectError = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(5);
  };

  it('unknown user → 404 before any stream', async () => {
    const res = await fetch(extractUrl(s, 'user_9999'), { method: 'POST' });
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    await expectError(res, 404, 'user_not_found');
  });

  it('malformed ids, unknown run, bad cursors, wrong method', async () => {
    await expectError(await fetch(extractUrl(s, 'bad%20id!'), { method: 'POST' }), 400, 'bad_request');
    await expectError(await fetch(`${s.url}/api/v1/runs/nope/stream`), 400, 'bad_request');
    await expectError(await fetch(`${s.url}/api/v1/runs/run_doesnotexist00/stream`), 404, 'run_not_found');
    await expectError(await fetch(`${s.url}/api/v1/runs/run_doesnotexist00`), 404, 'run_not_found');
    await expectError(await fetch(extractUrl(s), { method: 'GET' }), 405, 'method_not_allowed');
    const run = (await readSse(extractUrl(s, 'user_0002'), { method: 'POST' })).frames[0]!.frame;
    const stream = `${s.url}/api/v1/runs/${run.runId}/stream`;
    await expectError(await fetch(stream, { headers: { 'Last-Event-ID': 'abc' } }), 400, 'invalid_cursor');
    await expectError(await fetch(stream, { headers: { 'Last-Event-ID': '-1' } }), 400, 'invalid_cursor');
    await expectError(await fetch(`${stream}?after=999999`), 400, 'invalid_cursor');
    await expectError(
      await fetch(`${s.url}/api/v1/runs/${run.runId}/cancel`, { method: 'POST' }),
      409,
      'run_not_running',
    );
    await expectError(await fetch(`${s.url}/api/v1/users?limit=0`), 400, 'bad_request');
  });
});

describe('the upstream failing', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ UPSTREAM_MAX_RETRIES: 2, UPSTREAM_STALL_MS: 300 });
  });
  afterAll(() => s.dispose());
  const run = async (user: string) =>
    (await readSse(extractUrl(s, user), { method: 'POST' })).frames.map((f) => f.frame);

  it('429 before the first piece is retried, honouring Retry-After, each retry told', async () => {
    s.builtin!.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 0.1, times: 2 });
    const frames = await run('user_0004');
    const retries = frames.filter((f) => f.type === 'progress' && f.stage === 'retry');
    expect(retries).toHaveLength(2);
    if (retries[0]!.type !== 'progress') throw new Error();
    expect(retries[0]!.retry?.delayMs).toBe(100);
    expect(frames.at(-1)!.type).toBe('done');
  });

  it('5xx beyond the retry limit ends in a retryable error frame', async () => {
    s.builtin!.injectFault({ kind: 'status', status: 500, times: 3 });
    const frames = await run('user_0005');
    expect(frames.filter((f) => f.type === 'progress' && f.stage === 'retry')).toHaveLength(2);
    const end = frames.at(-1)!;
    expect(end).toMatchObject({ type: 'error', code: 'upstream_unavailable', retryable: true });
    expect((await getRun(s, end.runId)).status).toBe('error');
  });

  it('401 is not retried', async () => {
    s.builtin!.injectFault({ kind: 'status', status: 401 });
    const frames = await run('user_0006');
    expect(frames.some((f) => f.type === 'progress' && f.stage === 'retry')).toBe(false);
    expect(frames.at(-1)).toMatchObject({ type: 'error', code: 'upstream_auth', retryable: false });
  });

  it('a dropped connection keeps the partial text and events', async () => {
    s.builtin!.injectFault({ kind: 'drop', afterPieces: 60 });
    const frames = await run('user_0007');
    const end = frames.at(-1)!;
    expect(end).toMatchObject({ type: 'error', code: 'upstream_dropped' });
    const stored = await getRun(s, end.runId);
    expect(stored.status).toBe('error');
    expect(stored.text.length).toBeGreaterThan(0);
    expect(stored.text).toBe(textOf(frames));
    expect(stored.events.length).toBe(frames.filter((f) => f.type === 'event').length);
  });

  it('a stall past the timeout ends the run with upstream_stalled and closes the upstream', async () => {
    s.builtin!.injectFault({ kind: 'stall', afterPieces: 10 });
    const closed = new Promise<ClosedEvent>((ok) => s.builtin!.events.once('closed', ok));
    const frames = await run('user_0008');
    expect(frames.at(-1)).toMatchObject({ type: 'error', code: 'upstream_stalled', retryable: true });
    const c = await deadline(closed, 2000, 'upstream close');
    expect(c.byClient).toBe(true);
  });
});

describe('REST cancel and resume', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 100, BUILTIN_FIRST_PIECE_MS: 0 });
  });
  afterAll(() => s.dispose());

  it('cancel stops the model within 100 ms; resume completes with the uninterrupted event set', async () => {
    const reference = (await readSse(extractUrl(s, 'user_0007'), { method: 'POST' })).frames.map(
      (f) => f.frame,
    );
    const refEvents = (await getRun(s, reference[0]!.runId)).events.map(
      (e) => `${e.eventType}|${e.startTime}|${e.sourceBehaviorIds}`,
    );

    const partial = await readSse(extractUrl(s, 'user_0007'), { method: 'POST', stopAfter: 30 });
    const runId = partial.frames[0]!.frame.runId;
    const closed = new Promise<ClosedEvent>((ok) => s.builtin!.events.once('closed', ok));
    const t0 = performance.now();
    const res = await fetch(`${s.url}/api/v1/runs/${runId}/cancel`, { method: 'POST' });
    expect(res.status).toBe(202);
    const c = await deadline(closed, 1000, 'upstream close');
    expect(c.byClient).toBe(true);
    expect(c.at - t0).toBeLessThan(100);
    const afterCancel = await readSse(`${s.url}/api/v1/runs/${runId}/stream`);
    expect(afterCancel.frames.at(-1)!.frame.type).toBe('cancelled');
    expect((await getRun(s, runId)).status).toBe('cancelled');

    s.builtin!.setPace({ piecesPerSecond: 2000 });
    const resumed = await fetch(`${s.url}/api/v1/runs/${runId}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(202);
    const rest = await readSse(`${s.url}/api/v1/runs/${runId}/stream?after=${afterCancel.frames.length}`);
    expect(rest.frames.at(-1)!.frame.type).toBe('done');
    const stored = await getRun(s, runId);
    expect(stored.status).toBe('done');
    const all = [...afterCancel.frames, ...rest.frames].map((f) => f.frame);
    all.forEach((f, i) => expect(f.seq).toBe(i + 1));
    expect(textOf(all)).toBe(stored.text);
    expect(stored.events.map((e) => `${e.eventType}|${e.startTime}|${e.sourceBehaviorIds}`)).toEqual(
      refEvents,
    );
    const again = await fetch(`${s.url}/api/v1/runs/${runId}/resume`, { method: 'POST' });
    expect(again.status).toBe(409);
  });
});
