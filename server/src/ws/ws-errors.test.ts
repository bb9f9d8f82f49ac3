import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable, type ErrorCode } from '@app/shared';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { getRun, oneTo, rid, seqs, TestWsClient, useWsServer } from './test-ws-client.js';

describe('bad input on the WebSocket gets a stable code and the socket keeps working', () => {
  let s: TestServer;
  let c: TestWsClient;
  let doneRun: string;
  beforeAll(async () => {
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 0, BUILTIN_FIRST_PIECE_MS: 0 });
    c = await TestWsClient.connect(s);
    doneRun = await c.start('user_0002');
    await c.settled(doneRun);
  });
  afterAll(async () => {
    await c.close();
    await s.dispose();
  });

  /** Sends `msg` (adding a requestId unless it has one), expects error `code`, then a working ping. */
  const expectError = async (msg: Record<string, unknown> | string, code: ErrorCode, runId?: string) => {
    const own = typeof msg !== 'string' && 'requestId' in msg;
    const requestId = typeof msg === 'string' || own ? undefined : rid('bad');
    c.send(typeof msg === 'string' || own ? msg : { ...msg, requestId });
    const err = await c.next((m) => m.type === 'request_error', 2000, `error ${code}`);
    expect(err).toMatchObject({ type: 'request_error', code, retryable: isRetryable(code) });
    if (err.type !== 'request_error') throw new Error('not a request error');
    expect(err).not.toHaveProperty('seq');
    expect(err.message.length).toBeGreaterThan(5);
    // The requestId is echoed whenever it is a string, even on a message that is otherwise invalid.
    if (typeof msg !== 'string') {
      const sent = own ? msg.requestId : requestId;
      expect(err.requestId).toBe(typeof sent === 'string' ? sent : undefined);
    }
    if (runId) expect(err.runId).toBe(runId);
    await c.alive();
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  };

  it('invalid JSON → invalid_json', async () => {
    await expectError('{"type": "ping"', 'invalid_json');
    await expectError('', 'invalid_json');
  });

  it('unknown or missing type → unknown_type', async () => {
    await expectError({ type: 'launch' }, 'unknown_type');
    await expectError({ kind: 'start', userId: 'user_0001' }, 'unknown_type');
    await expectError('42', 'unknown_type');
    await expectError('null', 'unknown_type');
  });

  it('missing or wrongly typed fields → invalid_message', async () => {
    await expectError({ type: 'start' }, 'invalid_message');
    await expectError({ type: 'start', userId: 7 }, 'invalid_message');
    await expectError({ type: 'start', userId: 'bad id!' }, 'invalid_message');
    await expectError({ type: 'subscribe' }, 'invalid_message');
    await expectError({ type: 'subscribe', runId: 42 }, 'invalid_message');
    await expectError({ type: 'subscribe', runId: doneRun, after: '3' }, 'invalid_message');
    await expectError({ type: 'subscribe', runId: doneRun, after: 1.5 }, 'invalid_message');
    await expectError({ type: 'cancel' }, 'invalid_message');
    await expectError({ type: 'ping', requestId: 5 }, 'invalid_message');
    await expectError({ type: 'ping', requestId: 'x'.repeat(129) }, 'invalid_message');
  });

  it('a malformed run id → invalid_message; an unknown one → run_not_found', async () => {
    for (const type of ['subscribe', 'cancel', 'resume', 'unsubscribe']) {
      await expectError({ type, runId: 'nope' }, 'invalid_message');
      await expectError({ type, runId: 'run_doesnotexist00' }, 'run_not_found', 'run_doesnotexist00');
    }
  });

  it('an unknown user → user_not_found', async () => {
    await expectError({ type: 'start', userId: 'user_9999' }, 'user_not_found');
  });

  it('a cursor beyond the log or negative → invalid_cursor', async () => {
    const last = c.lastSeq(doneRun);
    await expectError({ type: 'subscribe', runId: doneRun, after: last + 1 }, 'invalid_cursor', doneRun);
    await expectError({ type: 'subscribe', runId: doneRun, after: 1e9 }, 'invalid_cursor', doneRun);
    await expectError({ type: 'subscribe', runId: doneRun, after: -1 }, 'invalid_cursor', doneRun);
  });

  it('cancel of a finished run → run_not_running; resume of a finished run → run_not_resumable', async () => {
    await expectError({ type: 'cancel', runId: doneRun }, 'run_not_running', doneRun);
    await expectError({ type: 'resume', runId: doneRun }, 'run_not_resumable', doneRun);
    expect((await getRun(s, doneRun)).status).toBe('done');
  });

  it('a binary frame → binary_not_supported', async () => {
    c.ws.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    const err = await c.next((m) => m.type === 'request_error', 2000, 'binary error');
    expect(err).toMatchObject({ type: 'request_error', code: 'binary_not_supported', retryable: false });
    await c.alive();
  });

  it('after all that, the socket still runs things', async () => {
    const runId = await c.start('user_0003');
    const frames = await c.settled(runId);
    expect(frames.at(-1)!.type).toBe('done');
    expect(seqs(frames)).toEqual(oneTo(frames.length));
  });
});

describe('limits', () => {
  const { connect } = useWsServer({
    WS_MAX_RUNS_PER_SOCKET: 2,
    WS_MAX_MESSAGE_BYTES: 1024,
    BUILTIN_PIECES_PER_SECOND: 300,
    BUILTIN_FIRST_PIECE_MS: 0,
  });

  it('a flood of start beyond WS_MAX_RUNS_PER_SOCKET → too_many_runs; the limit is per socket and frees up', async () => {
    const c = await connect();
    expect(c.hello().limits.maxRunsPerSocket).toBe(2);
    const ids = Array.from({ length: 6 }, () => rid('flood'));
    ids.forEach((requestId) => c.send({ type: 'start', userId: 'user_0007', requestId }));
    const replies = await Promise.all(ids.map((id) => c.reply(id)));
    expect(replies.map((r) => r.type)).toEqual([
      'ack',
      'ack',
      'request_error',
      'request_error',
      'request_error',
      'request_error',
    ]);
    for (const r of replies.slice(2)) expect(r).toMatchObject({ code: 'too_many_runs', retryable: true });
    await c.alive();

    // Another socket has its own allowance.
    const other = await connect();
    const otherRun = await other.start('user_0003');
    const cancelled = await other.request({ type: 'cancel', runId: otherRun });
    expect(cancelled.type).toBe('ack');

    // Once one of this socket's runs ends, it may start another.
    const first = (replies[0] as { runId: string }).runId;
    expect((await c.request({ type: 'cancel', runId: first })).type).toBe('ack');
    await c.settled(first);
    const again = await c.request({ type: 'start', userId: 'user_0004' });
    expect(again).toMatchObject({ type: 'ack', op: 'start' });
    for (const r of [replies[1], again]) {
      if (r?.type === 'ack') await c.request({ type: 'cancel', runId: r.runId });
    }
  });

  it('a message over WS_MAX_MESSAGE_BYTES closes that socket with 1009; another socket’s run is unaffected', async () => {
    const watcher = await connect();
    const runId = await watcher.start('user_0007');
    await watcher.framesOf(runId, 20);

    const big = await connect();
    expect(big.hello().limits.maxMessageBytes).toBe(1024);
    await big.alive();
    big.send({ type: 'ping', requestId: 'x'.repeat(2000) });
    const closed = await deadline(big.closed, 2000, 'close of the oversized sender');
    expect(closed.code).toBe(1009);

    const frames = await watcher.settled(runId);
    expect(frames.at(-1)!.type).toBe('done');
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    await watcher.alive();
  });
});
