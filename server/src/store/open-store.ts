import { hostname } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { startCheckpointer } from '../db/checkpointer.js';
import { FrameWriter } from '../db/frame-writer.js';
import { openDatabase, type DB } from '../db/open-database.js';
import { RunsRepo } from '../db/runs-repo.js';
import { UsersRepo } from '../db/users-repo.js';
import { LocalOwnership, type Ownership } from '../runs/ownership.js';
import { FreshRuns, FreshUsers } from './fresh-reads.js';
import { PgFrameJournal } from './pg/pg-frame-journal.js';
import { PgJournalReader } from './pg/pg-journal.js';
import { migratePg } from './pg/pg-migrations.js';
import { PgRunsStore } from './pg/pg-runs.js';
import { PgUsersStore } from './pg/pg-users.js';
import { PgWriter } from './pg/pg-writer.js';
import { connectRedis } from './redis/cluster-bus.js';
import { ClusterOwnership } from './redis/cluster-ownership.js';
import { RedisJournal } from './redis/redis-journal.js';
import type { LogWriter, RunsStore, UsersStore } from './types.js';

/** The storage and bus a server runs on, chosen by the environment. */
export interface Store {
  storage: 'sqlite' | 'postgres';
  bus: 'in-process' | 'redis';
  instanceId: string;
  users: UsersStore;
  runs: RunsStore;
  writer: LogWriter;
  ownership: Ownership;
  /** The SQLite database (embedded mode only). */
  db: DB | null;
  close(): Promise<void>;
}

type Log = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

/** No variables: SQLite in this process. DATABASE_URL: PostgreSQL. With REDIS_URL too: shared by instances. */
export async function openStore(config: Config, repoRoot: string, log: Log): Promise<Store> {
  const instanceId = config.INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const s = config.DATABASE_URL
    ? await openPostgres(config.DATABASE_URL, config, log, instanceId)
    : openSqlite(config, repoRoot, log, instanceId);
  // Every reader, routes and run loop alike, sees every frame already sent.
  return { ...s, runs: new FreshRuns(s.runs, s.writer), users: new FreshUsers(s.users, s.writer) };
}

async function openPostgres(url: string, config: Config, log: Log, instanceId: string): Promise<Store> {
  // Idle connections stay five minutes, not ten seconds: a burst after a quiet spell must not wait for
  // (and make PostgreSQL fork) new backends.
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 300_000,
  });
  // An idle client whose server went away must not take the process down.
  pool.on('error', (err) => log.warn({ err }, 'PostgreSQL connection lost'));
  await migratePg(pool);
  const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL) : null;
  redis?.on('error', (err) => log.warn({ err }, 'Redis connection error'));
  const journal = redis ? new RedisJournal(redis) : null;
  const writer = new PgWriter(pool, journal ?? new PgFrameJournal(pool), log);
  const ownership: Ownership = redis
    ? new ClusterOwnership(redis, instanceId, config.LEASE_MS, log)
    : new LocalOwnership(instanceId);
  return {
    storage: 'postgres',
    bus: redis ? 'redis' : 'in-process',
    instanceId,
    users: new PgUsersStore(pool),
    runs: new PgRunsStore(pool, journal ?? new PgJournalReader(pool)),
    writer,
    ownership,
    db: null,
    close: async () => {
      await writer.flush().catch(() => {});
      redis?.disconnect();
      await pool.end();
    },
  };
}

function openSqlite(config: Config, repoRoot: string, log: Log, instanceId: string): Store {
  const dbPath = config.DATABASE_PATH === ':memory:' ? ':memory:' : resolve(repoRoot, config.DATABASE_PATH);
  const db = openDatabase(dbPath);
  const checkpointer = startCheckpointer(db, {
    intervalMs: config.DB_CHECKPOINT_MS,
    onError: (error) => log.error({ error }, 'WAL checkpoint failed'),
  });
  return {
    storage: 'sqlite',
    bus: 'in-process',
    instanceId,
    users: new UsersRepo(db),
    runs: new RunsRepo(db),
    writer: new FrameWriter(db, config.DB_FLUSH_MS),
    ownership: new LocalOwnership(instanceId),
    db,
    close: async () => {
      await checkpointer?.stop();
      db.close();
    },
  };
}
