import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../test-support/pg-server.js';
import { testPool } from '../../test-support/store-fixture.js';
import { migratePg, PG_MIGRATIONS } from './pg-migrations.js';

let server: PgServer;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describe('migratePg', () => {
  it('migrates an empty database once when two instances start at the same moment', async () => {
    const url = await server.createDatabase();
    const pools = [testPool(url), testPool(url)];
    try {
      const results = await Promise.all(pools.map((p) => migratePg(p)));
      const latest = PG_MIGRATIONS.length;
      expect(results.map((r) => r.from).sort()).toEqual([0, latest]);
      expect(results.every((r) => r.to === latest)).toBe(true);
      const { rows } = await pools[0]!.query('SELECT version FROM schema_version');
      expect(rows).toEqual([{ version: latest }]);
      expect(await migratePg(pools[1]!)).toEqual({ from: latest, to: latest });
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
