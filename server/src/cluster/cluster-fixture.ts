import { afterAll, afterEach, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import type { Env } from '../config.js';
import { startPostgres, type PgServer } from '../test-support/pg-server.js';
import { startRedis, type RedisServer } from '../test-support/redis-server.js';
import { spawnServer, type ServerProcess } from '../test-support/server-process.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/** Fast leases, so a dead instance's runs are taken over within about a second in tests. */
export const CLUSTER_ENV = { LEASE_MS: 1000, TAKEOVER_CHECK_MS: 200 } as const;

export interface Cluster {
  pg: PgServer;
  redis: RedisServer;
  /** A fresh database and N instances on it sharing Redis, started at the same moment. */
  instances(n: number, env?: Partial<Env>): Promise<TestServer[]>;
  /** An instance in its own process (to kill -9), on the same database as `instances`' last set. */
  process(id: string, env?: Record<string, string>): Promise<ServerProcess>;
  /** The database URL of the last `instances` call. */
  databaseUrl(): string;
}

/** Real PostgreSQL and Redis for the file; every instance started through it stops after its test. */
export function useCluster(): Cluster {
  let pg: PgServer;
  let redis: RedisServer;
  let dbUrl = '';
  const started: { dispose(): Promise<void> }[] = [];
  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.dispose()));
    // One cluster per test: leases, streams and instance names of this one must not reach the next.
    const r = new Redis(redis.url);
    await r.flushall();
    r.disconnect();
  }, 30_000);
  afterAll(async () => {
    await Promise.all([redis?.stop(), pg?.stop()]);
  }, 60_000);
  return {
    get pg() {
      return pg;
    },
    get redis() {
      return redis;
    },
    databaseUrl: () => dbUrl,
    async instances(n, env = {}) {
      dbUrl = await pg.createDatabase();
      const servers = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          startTestServer({
            DATABASE_URL: dbUrl,
            REDIS_URL: redis.url,
            INSTANCE_ID: String.fromCharCode(97 + i),
            ...CLUSTER_ENV,
            ...env,
          }),
        ),
      );
      started.push(...servers);
      return servers;
    },
    async process(id, env = {}) {
      const p = await spawnServer({
        DATABASE_URL: dbUrl,
        REDIS_URL: redis.url,
        INSTANCE_ID: id,
        LEASE_MS: String(CLUSTER_ENV.LEASE_MS),
        TAKEOVER_CHECK_MS: String(CLUSTER_ENV.TAKEOVER_CHECK_MS),
        BUILTIN_FIRST_PIECE_MS: '20',
        PROTOCOL_CHECK: 'on',
        ...env,
      });
      started.push(p);
      return p;
    },
  };
}
