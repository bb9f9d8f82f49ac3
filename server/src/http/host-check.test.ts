import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { codeOf, httpRequest } from '../test-support/raw-http.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { upgradeStatus, wsUrl } from '../ws/test-ws-client.js';
import { hostAllowed } from './host-check.js';

/** A request by hand, without Host, which no HTTP client library sends; resolves with its status line. */
function hostless(port: number, head: string): Promise<string> {
  return deadline(
    new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write(`${head}\r\n\r\n`));
      let got = '';
      sock.setEncoding('utf8');
      sock.on('data', (c: string) => {
        got += c;
        if (got.includes('\r\n')) sock.destroy();
      });
      sock.on('close', () => resolve(got.split('\r\n')[0]!));
      sock.on('error', reject);
    }),
    5000,
    head,
  );
}

describe('Host check (DNS rebinding)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ ALLOWED_HOSTS: 'app.example.com, .corp.example' });
  });
  afterAll(() => s.dispose());

  const get = (path: string, host: string) => httpRequest(`${s.url}${path}`, { headers: { Host: host } });

  it('a rebound name gets 403 host_not_allowed on the API, SSE, metrics, the UI and the WebSocket', async () => {
    const host = `attacker.example:${s.port}`;
    for (const path of ['/api/v1/health', '/api/v1/users', '/api/v1/runs/run_x/stream', '/metrics', '/']) {
      const r = await get(path, host);
      expect(r.status, path).toBe(403);
      expect(codeOf(r), path).toBe('host_not_allowed');
      expect(r.body, path).toContain('ALLOWED_HOSTS');
    }
    const start = await httpRequest(`${s.url}/api/v1/runs`, {
      method: 'POST',
      headers: { Host: host, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'user_0001' }),
    });
    expect(start.status).toBe(403);
    // What a rebound page sends: its own origin, which equals its Host.
    const ws = await upgradeStatus(wsUrl(s), {
      headers: { Host: host, Origin: `http://${host}` },
    });
    expect(ws.status).toBe(403);
    expect(codeOf(ws)).toBe('host_not_allowed');
  });

  it('loopback names, IP addresses and ALLOWED_HOSTS (a leading dot: subdomains too) are served', async () => {
    for (const host of [
      `127.0.0.1:${s.port}`,
      `localhost:${s.port}`,
      'localhost',
      `board.localhost:${s.port}`,
      `[::1]:${s.port}`,
      '192.168.1.20:8000',
      'app.example.com',
      `corp.example:${s.port}`,
      'a.b.corp.example',
    ]) {
      expect((await get('/api/v1/health', host)).status, host).toBe(200);
    }
    for (const host of ['example.com', 'evilcorp.example', 'app.example.com.evil.example']) {
      expect((await get('/api/v1/health', host)).status, host).toBe(403);
    }
    const ws = await upgradeStatus(wsUrl(s), {
      headers: { Host: 'x.corp.example', Origin: 'http://x.corp.example' },
    });
    expect(ws.status).toBe(101);
  });

  it('without Host (no browser omits it): HTTP gets the adapter’s 400, a WebSocket upgrade is not refused', async () => {
    expect(await hostless(s.port, 'GET /api/v1/health HTTP/1.0')).toMatch(/^HTTP\/1\.1 400/);
    const upgrade = [
      'GET /api/v1/ws HTTP/1.1',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
    ].join('\r\n');
    expect(await hostless(s.port, upgrade)).toBe('HTTP/1.1 101 Switching Protocols');
  });
});

describe('ALLOWED_HOSTS=* turns the check off; HOST is allowed when it is a name', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ ALLOWED_HOSTS: '*' });
  });
  afterAll(() => s.dispose());

  it('serves any Host', async () => {
    const r = await httpRequest(`${s.url}/api/v1/health`, { headers: { Host: 'attacker.example' } });
    expect(r.status).toBe(200);
  });

  it('HOST=box.lan allows box.lan; 0.0.0.0 adds no name', () => {
    expect(hostAllowed(loadConfig({ HOST: 'box.lan' }), 'box.lan:8000')).toBe(true);
    expect(hostAllowed(loadConfig({ HOST: '0.0.0.0' }), 'box.lan:8000')).toBe(false);
    expect(hostAllowed(loadConfig({ ALLOWED_HOSTS: 'all' }), 'box.lan:8000')).toBe(true);
  });
});
