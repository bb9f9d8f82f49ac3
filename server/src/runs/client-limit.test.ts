import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../test-support/sse-client.js';
import { codeOf, httpRequest, type RawResponse } from '../test-support/raw-http.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { TestWsClient } from '../ws/test-ws-client.js';

/** POST /runs from a given local address (127.0.0.2 is another client) with extra headers. */
const startRest = (
  s: TestServer,
  body: Record<string, string>,
  opts: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> =>
  httpRequest(`${s.url}/api/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify(body),
    localAddress: opts.localAddress,
  });

const runIdOf = (r: RawResponse): string => (JSON.parse(r.body) as { runId: string }).runId;

async function untilSettled(s: TestServer, runId: string): Promise<void> {
  await deadline(
    (async () => {
      while (s.ctx.manager.isRunning(runId)) await new Promise((r) => setTimeout(r, 10));
    })(),
    5000,
    `run ${runId} to settle`,
  );
}

describe('MAX_RUNNING_RUNS_PER_CLIENT', () => {
  let s: TestServer;
  const sockets: TestWsClient[] = [];
  const socket = async (opts: { localAddress?: string; headers?: Record<string, string> } = {}) => {
    const c = await TestWsClient.connect(s, opts);
    sockets.push(c);
    return c;
  };
  beforeAll(async () => {
    // Slow pieces: every run stays running for the whole test.
    s = await startTestServer({ MAX_RUNNING_RUNS_PER_CLIENT: 2, BUILTIN_PIECES_PER_SECOND: 2 });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((c) => c.close()));
    await s.dispose();
  });

  it('counts runs started over REST, SSE and WebSocket together, whatever socket asks', async () => {
    const keyed = await startRest(s, { userId: 'user_0001', key: 'limit-key-0001' });
    expect(keyed.status).toBe(201);
    const first = runIdOf(keyed);
    const ws1 = await socket();
    await ws1.start('user_0002');

    // A fresh socket has room under WS_MAX_RUNS_PER_SOCKET, but this client has none.
    const ws2 = await socket();
    const refused = await ws2.request({ type: 'start', userId: 'user_0003' });
    expect(refused).toMatchObject({ type: 'request_error', code: 'too_many_runs', retryable: true });
    const rest = await startRest(s, { userId: 'user_0004' });
    expect([rest.status, codeOf(rest)]).toEqual([429, 'too_many_runs']);
    const sse = await readSse(`${s.url}/api/v1/events/extract/user_0005/llm-stream`, { method: 'POST' });
    expect(sse.status).toBe(429);
    expect(JSON.parse(sse.raw)).toMatchObject({ error: { code: 'too_many_runs' } });
    // A retried keyed start gets its run back: it starts nothing.
    const retried = await startRest(s, { userId: 'user_0001', key: 'limit-key-0001' });
    expect([retried.status, runIdOf(retried)]).toEqual([200, first]);

    // Another client is not held back by this one.
    const other = await startRest(s, { userId: 'user_0006' }, { localAddress: '127.0.0.2' });
    expect(other.status).toBe(201);
    const otherWs = await socket({ localAddress: '127.0.0.2' });
    await otherWs.start('user_0007');

    // A run that ends frees its place: the SSE start goes through.
    expect((await httpRequest(`${s.url}/api/v1/runs/${first}/cancel`, { method: 'POST' })).status).toBe(202);
    await untilSettled(s, first);
    const streamed = await readSse(`${s.url}/api/v1/events/extract/user_0008/llm-stream`, {
      method: 'POST',
      stopAfter: 1,
    });
    expect(streamed.status).toBe(200);
    expect(streamed.frames[0]?.frame.type).toBe('start');

    // A resume generates again, so it counts too (REST and WebSocket).
    const resumed = await httpRequest(`${s.url}/api/v1/runs/${first}/resume`, { method: 'POST' });
    expect([resumed.status, codeOf(resumed)]).toEqual([429, 'too_many_runs']);
    expect(await ws2.request({ type: 'resume', runId: first })).toMatchObject({
      type: 'request_error',
      code: 'too_many_runs',
    });
  });
});

describe('the client behind a proxy', () => {
  let trusted: TestServer;
  let untrusted: TestServer;
  beforeAll(async () => {
    const slow = { MAX_RUNNING_RUNS_PER_CLIENT: 1, BUILTIN_PIECES_PER_SECOND: 2 };
    [trusted, untrusted] = await Promise.all([
      startTestServer({ ...slow, TRUST_PROXY: 'loopback' }),
      startTestServer(slow),
    ]);
  });
  afterAll(() => Promise.all([trusted.dispose(), untrusted.dispose()]));

  const via = (addr: string) => ({ headers: { 'x-forwarded-for': addr } });

  it('with TRUST_PROXY, is the X-Forwarded-For address, over REST and WebSocket', async () => {
    expect((await startRest(trusted, { userId: 'user_0001' }, via('203.0.113.1'))).status).toBe(201);
    const again = await startRest(trusted, { userId: 'user_0002' }, via('203.0.113.1'));
    expect([again.status, codeOf(again)]).toEqual([429, 'too_many_runs']);
    const ws = await TestWsClient.connect(trusted, via('203.0.113.1'));
    expect(await ws.request({ type: 'start', userId: 'user_0003' })).toMatchObject({ code: 'too_many_runs' });
    await ws.close();
    expect((await startRest(trusted, { userId: 'user_0004' }, via('203.0.113.2'))).status).toBe(201);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: a made-up address buys no extra runs', async () => {
    expect((await startRest(untrusted, { userId: 'user_0001' }, via('203.0.113.1'))).status).toBe(201);
    const spoofed = await startRest(untrusted, { userId: 'user_0002' }, via('203.0.113.2'));
    expect([spoofed.status, codeOf(spoofed)]).toEqual([429, 'too_many_runs']);
  });
});
