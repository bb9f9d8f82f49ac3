import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../test-support/sse-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { TestWsClient, upgradeStatus, wsUrl } from './test-ws-client.js';

const codeOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

describe('Origin check on the upgrade', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ ALLOWED_ORIGINS: 'http://good.example, https://also.example' });
  });
  afterAll(() => s.dispose());

  const withOrigin = (origin?: string) =>
    upgradeStatus(wsUrl(s), origin ? { headers: { Origin: origin } } : {});

  it('refuses other sites with 403 forbidden_origin', async () => {
    for (const origin of [
      'http://evil.example',
      'http://127.0.0.1:1',
      `https://evil.example:${s.port}`,
      'null',
    ]) {
      const r = await withOrigin(origin);
      expect(r.status, origin).toBe(403);
      expect(codeOf(r.body)).toBe('forbidden_origin');
    }
    // The same through the client the tests use: an 'unexpected-response' with 403.
    await expect(TestWsClient.open(wsUrl(s), { headers: { Origin: 'http://evil.example' } })).rejects.toThrow(
      /HTTP 403/,
    );
  });

  it('accepts the server’s own origin, no Origin at all, and ALLOWED_ORIGINS', async () => {
    for (const origin of [s.url, undefined, 'http://good.example', 'https://also.example']) {
      expect((await withOrigin(origin)).status, String(origin)).toBe(101);
    }
    const c = await TestWsClient.connect(s, { headers: { Origin: 'http://good.example' } });
    await c.alive();
    await c.close();
  });

  it('refuses a path other than /api/v1/ws', async () => {
    const r = await upgradeStatus(`${s.url.replace(/^http/, 'ws')}/api/v1/other`);
    expect(r.status).toBe(404);
  });
});

describe('API_TOKEN', () => {
  const TOKEN = 'correct-horse-battery';
  const WRONG = 'correct-horse-batterx';
  let s: TestServer;
  let runId: string;
  let cookie: string;
  beforeAll(async () => {
    s = await startTestServer({ API_TOKEN: TOKEN, BUILTIN_PIECES_PER_SECOND: 0, BUILTIN_FIRST_PIECE_MS: 0 });
    const c = await TestWsClient.connect(s, { headers: { Authorization: `Bearer ${TOKEN}` } });
    runId = await c.start('user_0002');
    await c.settled(runId);
    await c.close();
    const session = await fetch(`${s.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(session.status).toBe(200);
    cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^es_token=/);
  });
  afterAll(() => s.dispose());

  /** Upgrade, REST and SSE statuses for one way of presenting a token. */
  const statuses = async (how: { headers?: Record<string, string>; query?: string }) => {
    const q = how.query ?? '';
    const ws = (await upgradeStatus(wsUrl(s, q), { headers: how.headers })).status;
    const rest = (await fetch(`${s.url}/api/v1/users${q}`, { headers: how.headers })).status;
    const sse = (await readSse(`${s.url}/api/v1/runs/${runId}/stream${q}`, { headers: how.headers })).status;
    return { ws, rest, sse };
  };

  it('without a token: 401 for the WebSocket upgrade, REST and SSE', async () => {
    expect(await statuses({})).toEqual({ ws: 401, rest: 401, sse: 401 });
    const r = await upgradeStatus(wsUrl(s));
    expect(codeOf(r.body)).toBe('unauthorized');
  });

  it('accepts Authorization: Bearer, ?token= and the session cookie', async () => {
    const ok = { ws: 101, rest: 200, sse: 200 };
    expect(await statuses({ headers: { Authorization: `Bearer ${TOKEN}` } })).toEqual(ok);
    expect(await statuses({ query: `?token=${encodeURIComponent(TOKEN)}` })).toEqual(ok);
    expect(await statuses({ headers: { Cookie: cookie } })).toEqual(ok);
    // And the socket really works with it.
    const c = await TestWsClient.connect(s, { headers: { Cookie: cookie } });
    await c.alive();
    await c.close();
  });

  it('a wrong token of the same length is refused everywhere', async () => {
    expect(WRONG.length).toBe(TOKEN.length);
    const refused = { ws: 401, rest: 401, sse: 401 };
    expect(await statuses({ headers: { Authorization: `Bearer ${WRONG}` } })).toEqual(refused);
    expect(await statuses({ query: `?token=${WRONG}` })).toEqual(refused);
    expect(await statuses({ headers: { Cookie: `es_token=${WRONG}` } })).toEqual(refused);
    const session = await fetch(`${s.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: WRONG }),
    });
    expect(session.status).toBe(401);
  });

  it('the Origin check still applies with a valid token', async () => {
    const r = await upgradeStatus(wsUrl(s), {
      headers: { Authorization: `Bearer ${TOKEN}`, Origin: 'http://evil.example' },
    });
    expect(r.status).toBe(403);
  });
});
