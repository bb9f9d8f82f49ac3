import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { portIsOpen, waitForPortClosed } from './free-port.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { spawnHolder } from './spawn-holder.js';

const client = (url: string) => new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });

describe('startRedis', () => {
  let server: RedisServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  it('answers commands, and stop() closes the port', async () => {
    server = await startRedis();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const r = client(server.url);
    try {
      await r.set('k', '值');
      expect(await r.get('k')).toBe('值');
    } finally {
      r.disconnect();
    }
    await server.stop();
    expect(await portIsOpen(server.port)).toBe(false);
    server = null;
  });

  it('restart() comes back on the same port with no data', async () => {
    server = await startRedis();
    const before = client(server.url);
    await before.set('k', 'v');
    before.disconnect();
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    const after = client(server.url);
    try {
      expect(await after.get('k')).toBeNull();
    } finally {
      after.disconnect();
    }
  });

  it('down() closes the port until up()', async () => {
    server = await startRedis();
    await server.down();
    expect(await portIsOpen(server.port)).toBe(false);
    await server.up();
    expect(await portIsOpen(server.port)).toBe(true);
  });

  it('dies with the test process that started it', async () => {
    const holder = await spawnHolder('redis-server.ts', 'startRedis');
    expect(await portIsOpen(holder.port)).toBe(true);
    holder.kill();
    await waitForPortClosed(holder.port, 5000);
    // The folder goes too: nobody else would remove it.
    const end = Date.now() + 5000;
    while (existsSync(holder.dir) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(holder.dir)).toBe(false);
  });
});
