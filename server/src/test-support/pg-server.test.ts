import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { portIsOpen, waitForPortClosed } from './free-port.js';
import { startPostgres, type PgServer } from './pg-server.js';
import { spawnHolder } from './spawn-holder.js';

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

describe('startPostgres', () => {
  let server: PgServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  it('answers queries in a database it created, and stop() closes the port', async () => {
    server = await startPostgres();
    const url = await server.createDatabase('runs_test');
    expect(url).toBe(`postgres://app@127.0.0.1:${server.port}/runs_test`);
    await query(url, 'create table t (v text)');
    await query(url, 'insert into t values ($1)', ['用户行为']);
    expect(await query(url, 'select v from t')).toEqual([{ v: '用户行为' }]);
    await server.stop();
    expect(await portIsOpen(server.port)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    server = null;
  });

  it('restart() comes back on the same port with the data kept', async () => {
    server = await startPostgres();
    const url = await server.createDatabase();
    await query(url, 'create table t as select 42 as v');
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    expect(await query(url, 'select v from t')).toEqual([{ v: 42 }]);
  });

  it('down() refuses connections until up()', async () => {
    server = await startPostgres();
    await server.down();
    await expect(query(server.url(), 'select 1')).rejects.toThrow(/ECONNREFUSED/);
    await server.up();
    expect(await query(server.url(), 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('dies with the test process that started it', async () => {
    const holder = await spawnHolder('pg-server.ts', 'startPostgres');
    expect(await portIsOpen(holder.port)).toBe(true);
    holder.kill();
    await waitForPortClosed(holder.port, 8000);
    const end = Date.now() + 5000;
    while (existsSync(holder.dir) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(holder.dir)).toBe(false);
  });
});
