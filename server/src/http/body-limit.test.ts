import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, httpRequest, streamBody } from '../test-support/raw-http.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { JSON_BODY_MAX_BYTES } from './body-limit.js';

const MB = 1024 * 1024;
const TOKEN = 'correct-horse-battery';

describe('JSON bodies are refused past a small limit while they are read', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 0, BUILTIN_FIRST_PIECE_MS: 0 });
  });
  afterAll(() => s.dispose());

  it('a 32 MB chunked POST /runs gets 413 payload_too_large before it has all been sent', async () => {
    const r = await streamBody(`${s.url}/api/v1/runs`, { total: 32 * MB });
    expect(r.status).toBe(413);
    expect(codeOf(r)).toBe('payload_too_large');
    expect(r.sentBeforeAnswer).toBeLessThan(r.total);
  });

  it('the same for the SSE start and for a Content-Length over the limit, answered from the header', async () => {
    const sse = await streamBody(`${s.url}/api/v1/events/extract/user_0001/llm-stream`, { total: 32 * MB });
    expect([sse.status, codeOf(sse)]).toEqual([413, 'payload_too_large']);
    expect(sse.sentBeforeAnswer).toBeLessThan(sse.total);
    const declared = await httpRequest(`${s.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(200 * MB) },
      body: '{',
    });
    expect([declared.status, codeOf(declared)]).toEqual([413, 'payload_too_large']);
  });

  it('a body within the limit is still read', async () => {
    const pad = 'x'.repeat(JSON_BODY_MAX_BYTES - 100);
    const r = await httpRequest(`${s.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'user_0001', pad }),
    });
    expect(r.status).toBe(201);
  });
});

describe('with API_TOKEN, the token is checked before a body is read', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ API_TOKEN: TOKEN, IMPORT_MAX_BYTES: 64 * 1024 });
  });
  afterAll(() => s.dispose());

  it('POST /session (before the token check) reads no more than the small limit', async () => {
    const r = await streamBody(`${s.url}/api/v1/session`, { total: 32 * MB });
    expect([r.status, codeOf(r)]).toEqual([413, 'payload_too_large']);
    expect(r.sentBeforeAnswer).toBeLessThan(r.total);
    const ok = await httpRequest(`${s.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(ok.status).toBe(200);
  });

  it('without a token, POST /runs and /import answer 401 before the body has been sent', async () => {
    for (const path of ['/api/v1/runs', '/api/v1/import?format=jsonl']) {
      const r = await streamBody(`${s.url}${path}`, { total: 32 * MB });
      expect([r.status, codeOf(r)], path).toEqual([401, 'unauthorized']);
      expect(r.sentBeforeAnswer, path).toBeLessThan(r.total);
    }
  });

  it('an import over IMPORT_MAX_BYTES gets 413 naming the setting, before it has all been sent', async () => {
    const r = await streamBody(`${s.url}/api/v1/import?format=jsonl`, {
      total: 32 * MB,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
    });
    expect([r.status, codeOf(r)]).toEqual([413, 'payload_too_large']);
    expect(r.body).toContain('IMPORT_MAX_BYTES');
    expect(r.sentBeforeAnswer).toBeLessThan(r.total);
  });
});

describe('imports keep their larger limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ DEMO_DATA: 'off' });
  });
  afterAll(() => s.dispose());

  it('takes a 100,000-row file (about 20 MB) in one request', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const user = `user_${String(10_000 + (i % 2000))}`;
      rows.push(
        JSON.stringify({
          user_id: user,
          id: `b${i}`,
          ts: '2026-02-01 10:00',
          action: '浏览车型',
          object: '理想L6 新能源 SUV',
          channel: 'app',
          detail: '在官网查看了配置和价格，停留了三分钟',
        }),
      );
    }
    const body = rows.join('\n');
    expect(Buffer.byteLength(body)).toBeGreaterThan(JSON_BODY_MAX_BYTES * 1000);
    const r = await httpRequest(
      `${s.url}/api/v1/import?format=jsonl`,
      { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body },
      60_000,
    );
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body)).toMatchObject({ ok: true, behaviours: 100_000, users: 2000 });
  }, 90_000);
});
