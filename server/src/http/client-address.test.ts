import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { httpRequest } from '../test-support/raw-http.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const TOKEN = 'correct-horse-battery';

/** The Set-Cookie POST /session answers with, given extra request headers. */
async function sessionCookie(s: TestServer, headers: Record<string, string> = {}): Promise<string> {
  const r = await httpRequest(`${s.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ token: TOKEN }),
  });
  expect(r.status).toBe(200);
  return r.headers['set-cookie']?.[0] ?? '';
}

describe('the session cookie', () => {
  let proxied: TestServer;
  let direct: TestServer;
  beforeAll(async () => {
    [proxied, direct] = await Promise.all([
      startTestServer({ API_TOKEN: TOKEN, TRUST_PROXY: '127.0.0.1' }),
      startTestServer({ API_TOKEN: TOKEN }),
    ]);
  });
  afterAll(() => Promise.all([proxied.dispose(), direct.dispose()]));

  it('is Secure when a trusted proxy says the client came over HTTPS', async () => {
    const cookie = await sessionCookie(proxied, { 'x-forwarded-proto': 'https' });
    expect(cookie).toMatch(/^es_token=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
  });

  it('is not Secure over plain http, nor when an untrusted peer claims HTTPS', async () => {
    expect(await sessionCookie(proxied)).not.toMatch(/Secure/);
    expect(await sessionCookie(proxied, { 'x-forwarded-proto': 'http' })).not.toMatch(/Secure/);
    expect(await sessionCookie(direct, { 'x-forwarded-proto': 'https' })).not.toMatch(/Secure/);
  });

  it('a bad TRUST_PROXY entry fails start-up with a sentence naming it', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'loopback, not-an-address' })).toThrow(
      /TRUST_PROXY: .*not-an-address/,
    );
  });
});
