import { Redis } from 'ioredis';
import pg from 'pg';
import { WebSocket } from 'ws';
import type { RunFrame } from '@app/shared';
import { StreamClient } from '@app/shared/client';
import { PgRunsStore } from '../store/pg/pg-runs.js';
import { RedisJournal } from '../store/redis/redis-journal.js';
import { startPostgres, type PgServer } from '../test-support/pg-server.js';
import { startRedis, type RedisServer } from '../test-support/redis-server.js';
import {
  check,
  killWhileStreaming,
  referenceEvents,
  stageOf,
  startAndWatch,
  USERS,
  type SoakOptions,
  type SoakReport,
  type Watched,
} from './crash-soak.js';
import { buildServerOnce, freePort, ServerOnPort } from './server-on-port.js';

export interface ClusterSoakOptions extends SoakOptions {
  /** Instances sharing one PostgreSQL and one Redis; one at a time is killed and started again. */
  instances: number;
  /** Lease of a run (ms): a killed instance's runs are taken over within about this plus the check. */
  leaseMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The crash soak on a cluster: runs start on every instance (a WebSocket client each) and are watched over
 * SSE from whichever instance answers at each reconnection, while a random instance is killed (SIGKILL)
 * and started again, over and over; the others take its runs over and go on in the same log. Then every
 * client's frames are checked against the log in PostgreSQL, each run's events against an uninterrupted
 * run's, as the single-server soak does.
 */
export async function runClusterSoak(opts: ClusterSoakOptions): Promise<SoakReport> {
  const report: SoakReport = { kills: 0, runs: 0, framesChecked: 0, stagesHit: {}, violations: [] };
  const watched = new Map<string, Watched>();
  const wsFrames = new Map<string, RunFrame[]>();
  const framesOf = (runId: string) => wsFrames.get(runId) ?? wsFrames.set(runId, []).get(runId)!;
  const clients: StreamClient[] = [];
  const servers: ServerOnPort[] = [];
  let pgServer: PgServer | null = null;
  let redisServer: RedisServer | null = null;
  try {
    [pgServer, redisServer] = await Promise.all([startPostgres(), startRedis()]);
    const dbUrl = await pgServer.createDatabase();
    const entry = buildServerOnce();
    for (let i = 0; i < opts.instances; i++) {
      servers.push(
        new ServerOnPort(
          await freePort(),
          {
            DATABASE_URL: dbUrl,
            REDIS_URL: redisServer.url,
            INSTANCE_ID: String.fromCharCode(97 + i),
            LEASE_MS: String(opts.leaseMs),
            TAKEOVER_CHECK_MS: String(Math.max(100, Math.floor(opts.leaseMs / 5))),
            BUILTIN_PIECES_PER_SECOND: String(opts.piecesPerSecond),
            BUILTIN_FIRST_PIECE_MS: '0',
            MAX_RUNNING_RUNS_PER_CLIENT: '0',
          },
          entry,
        ),
      );
    }
    // The first one migrates and loads the demo users; the others find them.
    await servers[0]!.start();
    await Promise.all(servers.slice(1).map((s) => s.start()));
    const reference = await referenceEvents(servers[0]!.url);
    for (const s of servers) {
      const c = new StreamClient({
        url: `${s.url.replace(/^http/, 'ws')}/api/v1/ws`,
        WebSocket: WebSocket as unknown as ConstructorParameters<typeof StreamClient>[0]['WebSocket'],
        backoff: { baseMs: 20, maxMs: 200 },
      });
      // A client on a killed instance comes back to it once it is started again, and asks from its cursor.
      c.onFrame((f) => framesOf(f.runId).push(f));
      c.onReset((runId) =>
        report.violations.push(`${runId}: the client had to reset (frames it held were lost)`),
      );
      clients.push(c);
    }
    // An SSE reconnection asks any instance: the one it asks is a different one each time.
    let turn = 0;
    const anyInstance = () => servers[turn++ % servers.length]!.url;

    await killWhileStreaming(opts, report, watched, {
      start: (n) =>
        startAndWatch(clients[n % clients.length]!, anyInstance, USERS[n % USERS.length]!, watched, framesOf),
      kill: async () => {
        const victim = servers[Math.floor(Math.random() * servers.length)]!;
        await victim.kill();
        // Down for a while, long enough at times for its runs to be taken over elsewhere.
        await sleep(Math.random() * 2 * opts.leaseMs);
        await victim.start();
        return `port ${victim.port}`;
      },
      explain: () => unfinished(watched, servers[0]!.url),
    });
    await Promise.all(servers.map((s) => s.stop()));
    report.runs = watched.size;
    const pool = new pg.Pool({ connectionString: dbUrl, max: 2 });
    const redis = new Redis(redisServer.url);
    try {
      await check(new PgRunsStore(pool, new RedisJournal(redis)), watched, reference, report);
    } finally {
      redis.disconnect();
      await pool.end();
    }
    return report;
  } finally {
    for (const c of clients) c.close();
    for (const w of watched.values()) w.sse.stop();
    await Promise.all(servers.map((s) => s.kill()));
    await Promise.all([redisServer?.stop(), pgServer?.stop()]);
  }
}

/** What is known of the runs a client has not seen end, for the failure message. */
async function unfinished(watched: Map<string, Watched>, baseUrl: string): Promise<string> {
  const lines: string[] = [];
  for (const w of watched.values()) {
    if (w.ws.at(-1)?.type === 'done' && w.sse.done) continue;
    let row: string;
    try {
      const r = await fetch(`${baseUrl}/api/v1/runs/${w.runId}`, { signal: AbortSignal.timeout(5000) });
      const d = (await r.json()) as { status?: string; lastSeq?: number };
      row = `stored ${d.status} lastSeq ${d.lastSeq}`;
    } catch (err) {
      row = String(err);
    }
    lines.push(
      `${w.runId}: WebSocket has ${w.ws.length} (last ${stageOf(w.ws)} seq ${w.ws.at(-1)?.seq}), ` +
        `SSE has ${w.sse.raw.length} (done ${w.sse.done}); ${row}`,
    );
  }
  return lines.join('\n');
}
