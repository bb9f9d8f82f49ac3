/**
 * The cluster section of `npm run bench`: a throwaway PostgreSQL and Redis, two server instances on them
 * (A and B, each bench/server-entry.ts in its own process) and one embedded instance (SQLite) for the same
 * workload. Measures the Redis hop (runs started on A, watched on B, against start and watch on the
 * embedded instance), CPU per piece of the instances and of Redis and PostgreSQL, fan-out with the
 * watchers of each run spread over A and B, and the takeover of a kill -9'd instance's runs.
 */
import { join } from 'node:path';
import { startPostgres, type PgServer } from '../server/src/test-support/pg-server.js';
import { startRedis, type RedisServer } from '../server/src/test-support/redis-server.js';
import type { PhaseSpec, RunsResult } from './load-client.js';
import { clockMs, cpuSeconds, treeCpuSeconds, type Child } from './procs.js';
import type { Target } from './report.js';
import { dist, fmt, fmtDelta, markdownTable, table, type Dist } from './stats.js';
import type { TakeoverRun } from './takeover-watch.js';

export interface ClusterPlan {
  /** Concurrent users (each does two runs back to back, as in the main steady phases). */
  runs: number;
  reps: number;
  fanoutWatchers: number;
  fanoutReps: number;
  takeoverRuns: number;
  /** Pieces per run in the takeover part: long enough to be killed mid-run. */
  takeoverPieces: number;
}

/** The instances' lease settings are the defaults, so the takeover time is the deployed one. */
export const LEASE_MS = 5000;
export const TAKEOVER_CHECK_MS = 1000;
/** The issue's targets for the Redis hop at 100 runs. */
const HOP_TARGET = { p50: 2, p99: 15 };
/** Takeover runs are killed once every watcher has this many pieces (0.5 s into a run at 50/s). */
const KILL_AFTER_PIECES = 25;

export interface ClusterDeps {
  log(line: string): void;
  model: Child;
  client: Child;
  pieces: number;
  rate: number;
  runMs: number;
  settleMs: number;
  phaseTimeoutMs: number;
  dir: string;
  /** Starts bench/server-entry.ts with these variables; `profileAs` names its --cpu-prof folder. */
  server(name: string, env: Record<string, string>, profileAs?: string): Promise<Child>;
  /** Registers a stop the bench runs even when it fails or passes its deadline. */
  onCleanup(stop: () => Promise<void>): void;
}

type Setup = 'embedded' | 'cluster';

export interface ClusterRow {
  setup: Setup;
  watchers: number;
  reps: number;
  lat: Dist;
  /** Latency by the instance the watcher reads from (E, A or B). */
  latBy: Record<string, Dist>;
  /** POST /runs sent → first piece at the watcher. */
  ttfp: Dist;
  received: number;
  expected: number;
  catchUp: number;
  /** CPU s per 10,000 pieces delivered (all watchers), by process: E, A, B, redis, postgres. */
  cpuPer10k: Record<string, number>;
  /** The server instances together: E, or A + B. */
  instancesPer10k: number;
  loopMaxMs: Record<string, number>;
  clientCores: number;
  modelCores: number;
}

export interface TakeoverResult {
  runs: number;
  pieces: number;
  watchersPerRun: number;
  /** From the first start to the kill, ms, and the fewest pieces a watcher had by then. */
  killedAfterMs: number;
  minPiecesAtKill: number;
  /** ms from the kill until a run's `progress {stage:"resumed"}` / `done` reached all its watchers. */
  firstResumedMs: number;
  resumedMs: Dist;
  doneMs: Dist;
  takenOverBy: Record<string, number>;
  frames: number;
}

export interface ClusterResult {
  plan: ClusterPlan;
  pieces: number;
  leaseMs: number;
  takeoverCheckMs: number;
  rows: ClusterRow[];
  /** Cluster (start on A, watch on B) − embedded, one watcher per run, ms. */
  hop: { p50: number; p99: number; max: number };
  takeover: TakeoverResult | null;
  targets: Target[];
  failures: string[];
}

interface Cell {
  setup: Setup;
  watchers: number;
  reps: number;
  latencies: number[];
  latBy: Record<string, number[]>;
  ttfp: number[];
  received: number;
  expected: number;
  catchUp: number;
  cpu: Record<string, number>;
  wallS: number;
  loopMaxMs: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const userOf = (k: number) => `user_${String((k % 60) + 1).padStart(4, '0')}`;

/** Runs the whole section; every process and server it starts is stopped before it returns. */
export async function benchCluster(plan: ClusterPlan, deps: ClusterDeps): Promise<ClusterResult> {
  const { log, model } = deps;
  const started = clockMs();
  const failures: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    await Promise.allSettled(
      stops
        .splice(0)
        .reverse()
        .map((s) => s()),
    );
  };
  deps.onCleanup(stopAll);
  try {
    const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    stops.push(
      () => pg.stop(),
      () => redis.stop(),
    );
    const dbUrl = await pg.createDatabase('bench');
    const clusterEnv = (id: string) => ({
      BENCH_DATABASE_PATH: join(deps.dir, `unused-${id}.db`),
      BENCH_SERVER_ENV: JSON.stringify({
        DATABASE_URL: dbUrl,
        REDIS_URL: redis.url,
        INSTANCE_ID: id,
        LEASE_MS,
        TAKEOVER_CHECK_MS,
      }),
    });
    const embedded = await deps.server(
      'embedded instance',
      { BENCH_DATABASE_PATH: join(deps.dir, 'embedded.db') },
      'cluster-embedded',
    );
    stops.push(() => embedded.stop());
    // Started together, as a deploy would: one migrates and loads the demo users, the other waits.
    const [a, b] = await Promise.all(
      ['a', 'b'].map((id) => deps.server(`cluster ${id}`, clusterEnv(id), `cluster-${id}`)),
    );
    stops.push(
      () => a!.stop(),
      () => b!.stop(),
    );
    const url = (c: Child) => String(c.ready.url);
    log(
      `  PostgreSQL :${pg.port}, Redis :${redis.port}; embedded ${url(embedded)} (pid ${embedded.pid}), ` +
        `A ${url(a!)} (pid ${a!.pid}), B ${url(b!)} (pid ${b!.pid})`,
    );
    const run = new PhaseRunner(deps, { E: embedded, A: a!, B: b! }, pg, redis, failures);
    log('  warm-up (not recorded)');
    await run.phase('embedded', plan.runs / 5, 1, false);
    await run.phase('cluster', plan.runs / 5, 1, false);
    log(`  ${plan.runs} runs, one watcher each: embedded vs started on A and watched on B, interleaved`);
    for (let rep = 0; rep < plan.reps; rep++) {
      await run.phase('embedded', plan.runs, 1, true);
      await run.phase('cluster', plan.runs, 1, true);
    }
    const fw = plan.fanoutWatchers;
    log(`  fan-out: ${plan.runs} runs × ${fw} watchers (cluster: ${fw / 2} on A, ${fw / 2} on B)`);
    for (let rep = 0; rep < plan.fanoutReps; rep++) {
      await run.phase('embedded', plan.runs, fw, true);
      await run.phase('cluster', plan.runs, fw, true);
    }
    const rows = run.rows();
    let takeover: TakeoverResult | null = null;
    try {
      takeover = await takeoverPart(plan, deps, clusterEnv, a!, b!, failures);
    } finally {
      await model.call({ cmd: 'pace', pace: { pieces: deps.pieces, piecesPerSecond: deps.rate } });
    }
    const e1 = rows.find((r) => r.setup === 'embedded' && r.watchers === 1);
    const c1 = rows.find((r) => r.setup === 'cluster' && r.watchers === 1);
    const hop = {
      p50: (c1?.lat.p50 ?? NaN) - (e1?.lat.p50 ?? NaN),
      p99: (c1?.lat.p99 ?? NaN) - (e1?.lat.p99 ?? NaN),
      max: (c1?.lat.max ?? NaN) - (e1?.lat.max ?? NaN),
    };
    const result: ClusterResult = {
      plan,
      pieces: deps.pieces,
      leaseMs: LEASE_MS,
      takeoverCheckMs: TAKEOVER_CHECK_MS,
      rows,
      hop,
      takeover,
      targets: [
        target(`Redis hop, added p50 at ${plan.runs} runs`, hop.p50, HOP_TARGET.p50),
        target(`Redis hop, added p99 at ${plan.runs} runs`, hop.p99, HOP_TARGET.p99),
      ],
      failures,
    };
    log(`  cluster section done in ${fmt((clockMs() - started) / 1000, 0)} s`);
    return result;
  } finally {
    await stopAll();
  }
}

function target(name: string, value: number, limit: number): Target {
  return {
    name,
    figure: Number.isNaN(value) ? 'not measured' : `${fmt(value)} ms`,
    limit: `≤ ${limit} ms`,
    pass: Number.isNaN(value) ? null : value <= limit,
  };
}

/** Steady phases against the embedded instance or the cluster, CPU of every process around each. */
class PhaseRunner {
  private readonly cells = new Map<string, Cell>();
  private userOffset = 0;

  constructor(
    private readonly deps: ClusterDeps,
    private readonly servers: { E: Child; A: Child; B: Child },
    private readonly pg: PgServer,
    private readonly redis: RedisServer,
    private readonly failures: string[],
  ) {}

  private nameOf(serverURL: string): string {
    const hit = Object.entries(this.servers).find(([, c]) => String(c.ready.url) === serverURL);
    return hit?.[0] ?? serverURL;
  }

  private cpuNow(setup: Setup): Record<string, number> {
    const { E, A, B } = this.servers;
    const own: Record<string, number> =
      setup === 'embedded'
        ? { E: cpuSeconds(E.pid) }
        : {
            A: cpuSeconds(A.pid),
            B: cpuSeconds(B.pid),
            redis: treeCpuSeconds(this.redis.dir),
            postgres: treeCpuSeconds(this.pg.dir),
          };
    return { ...own, model: cpuSeconds(this.deps.model.pid), client: cpuSeconds(this.deps.client.pid) };
  }

  /**
   * One steady phase of `runs` users × two runs: each run is started with POST /runs (on E, or on A) and
   * watched by `watchers` WebSockets (on E; on B alone for one watcher, else alternately on A and B).
   */
  async phase(setup: Setup, runs: number, watchers: number, record: boolean): Promise<void> {
    const { deps } = this;
    const { E, A, B } = this.servers;
    const url = (c: Child) => String(c.ready.url);
    const layout = Array.from({ length: watchers }, (_, k) =>
      setup === 'embedded' ? url(E) : watchers === 1 ? url(B) : url(k % 2 === 0 ? A : B),
    );
    const instances = setup === 'embedded' ? [E] : [A, B];
    const startURL = setup === 'embedded' ? url(E) : url(A);
    await deps.client.call({ cmd: 'prepare', layout, groups: runs });
    await sleep(150);
    await Promise.all(instances.map((c) => c.call({ cmd: 'loop' })));
    const cpu0 = this.cpuNow(setup);
    const t0 = clockMs();
    const spec: PhaseSpec = {
      mode: 'ws',
      users: runs,
      runsPerUser: 2,
      spreadMs: deps.runMs,
      watchers,
      pieces: deps.pieces,
      targets: { modelURL: '', bareURL: '', serverURL: startURL },
      userOffset: this.userOffset,
      timeoutMs: deps.phaseTimeoutMs,
      window: [deps.runMs, 2 * deps.runMs],
      startURL,
    };
    this.userOffset += runs;
    const r = await deps.client.call<RunsResult>({ cmd: 'runs', ...spec }, deps.phaseTimeoutMs + 10_000);
    // The owner's deferred work (run rows, the settled logs to PostgreSQL) belongs to the phase too.
    await sleep(deps.settleMs);
    const wallS = (clockMs() - t0) / 1000;
    const cpu1 = this.cpuNow(setup);
    const loops = await Promise.all(
      instances.map((c) => c.call<{ p99: number; max: number }>({ cmd: 'loop' })),
    );
    const v = await deps.client.call<{ checked: number; failures: string[] }>({ cmd: 'verify' });
    const label = `${setup} ${runs}${watchers > 1 ? `×${watchers}` : ''}`;
    const phaseFailures = [...r.failures, ...v.failures].map((f) => namedURLs(f, this.servers));
    if (phaseFailures.length > 0) {
      this.failures.push(...phaseFailures.map((f) => `[${label}] ${f}`));
      deps.log(`  !! ${label}: ${phaseFailures.length} failure(s), first: ${phaseFailures[0]}`);
    }
    const lat = dist(r.latencies);
    const cpu = Object.fromEntries(Object.keys(cpu0).map((k) => [k, cpu1[k]! - cpu0[k]!]));
    deps.log(
      `    ${label.padEnd(14)} ${r.received}/${r.expected} pieces, latency p50 ${fmt(lat.p50)} p99 ${fmt(lat.p99)} ms, CPU ` +
        Object.entries(cpu)
          .filter(([k]) => k !== 'model' && k !== 'client')
          .map(([k, s]) => `${k} ${fmt(s)} s`)
          .join(', ') +
        `, loop delay max ${loops.map((l) => fmt(l.max, 1)).join(' / ')} ms`,
    );
    if (!record) return;
    const key = `${setup}:${watchers}`;
    let c = this.cells.get(key);
    if (!c) {
      c = {
        setup,
        watchers,
        reps: 0,
        latencies: [],
        latBy: {},
        ttfp: [],
        received: 0,
        expected: 0,
        catchUp: 0,
        cpu: {},
        wallS: 0,
        loopMaxMs: {},
      };
      this.cells.set(key, c);
    }
    c.reps++;
    for (const x of r.latencies) c.latencies.push(x);
    for (const x of r.ttfp) c.ttfp.push(x);
    for (const [u, xs] of Object.entries(r.latenciesByURL ?? {})) {
      const into = (c.latBy[this.nameOf(u)] ??= []);
      for (const x of xs) into.push(x);
    }
    c.received += r.received;
    c.expected += r.expected;
    c.catchUp += r.catchUp;
    for (const [k, s] of Object.entries(cpu)) c.cpu[k] = (c.cpu[k] ?? 0) + s;
    c.wallS += wallS;
    instances.forEach((inst, i) => {
      const name = this.nameOf(url(inst));
      c.loopMaxMs[name] = Math.max(c.loopMaxMs[name] ?? 0, loops[i]!.max);
    });
  }

  rows(): ClusterRow[] {
    return [...this.cells.values()]
      .sort((x, y) => x.watchers - y.watchers || (x.setup === 'embedded' ? -1 : 1))
      .map((c) => {
        const per10k = (s: number) => (c.received > 0 ? (s / c.received) * 10_000 : NaN);
        const cpuPer10k = Object.fromEntries(
          Object.entries(c.cpu)
            .filter(([k]) => k !== 'model' && k !== 'client')
            .map(([k, s]) => [k, per10k(s)]),
        );
        return {
          setup: c.setup,
          watchers: c.watchers,
          reps: c.reps,
          lat: dist(c.latencies),
          latBy: Object.fromEntries(Object.entries(c.latBy).map(([k, xs]) => [k, dist(xs)])),
          ttfp: dist(c.ttfp),
          received: c.received,
          expected: c.expected,
          catchUp: c.catchUp,
          cpuPer10k,
          instancesPer10k: per10k(c.setup === 'embedded' ? c.cpu.E! : c.cpu.A! + c.cpu.B!),
          loopMaxMs: c.loopMaxMs,
          clientCores: (c.cpu.client ?? 0) / c.wallS,
          modelCores: (c.cpu.model ?? 0) / c.wallS,
        };
      });
  }
}

/**
 * A third instance C in its own process starts `takeoverRuns` runs (POST /runs), each watched over WS on
 * A and on B; once every watcher has a few pieces C gets SIGKILL. Timed from the kill: each run's
 * `progress {stage:"resumed"}` and `done` reaching all its watchers.
 */
async function takeoverPart(
  plan: ClusterPlan,
  deps: ClusterDeps,
  clusterEnv: (id: string) => Record<string, string>,
  a: Child,
  b: Child,
  failures: string[],
): Promise<TakeoverResult> {
  const { log, client, model } = deps;
  const url = (c: Child) => String(c.ready.url);
  const n = plan.takeoverRuns;
  log(
    `  takeover: ${n} runs of ${plan.takeoverPieces} pieces on instance C (own process), watched on A and B; ` +
      `C killed with SIGKILL mid-run (LEASE_MS ${LEASE_MS}, TAKEOVER_CHECK_MS ${TAKEOVER_CHECK_MS})`,
  );
  await model.call({ cmd: 'pace', pace: { pieces: plan.takeoverPieces, piecesPerSecond: deps.rate } });
  const c = await deps.server('cluster c (killed)', clusterEnv('c'));
  try {
    const t0 = clockMs();
    const runIds = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await fetch(`${url(c)}/api/v1/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: userOf(i) }),
        });
        if (res.status !== 201) throw new Error(`POST /runs on C: HTTP ${res.status} ${await res.text()}`);
        return ((await res.json()) as { runId: string }).runId;
      }),
    );
    await client.call({ cmd: 'takeoverWatch', runIds, servers: [url(a), url(b)] });
    const at = await client.call<{ minChunks: number }>({
      cmd: 'takeoverUntil',
      min: KILL_AFTER_PIECES,
      timeoutMs: 15_000,
    });
    const exited = new Promise<void>((ok) => c.proc.once('exit', () => ok()));
    const killAt = clockMs();
    c.proc.kill('SIGKILL');
    await exited;
    // Taken over within the lease and one check, then a whole run again (the model starts over).
    const finishMs =
      LEASE_MS + TAKEOVER_CHECK_MS + (2 * (plan.takeoverPieces - 1) * 1000) / deps.rate + 15_000;
    const fin = await client.call<{ runs: TakeoverRun[]; failures: string[] }>(
      { cmd: 'takeoverFinish', serverURL: url(a), timeoutMs: finishMs },
      finishMs + 30_000,
    );
    failures.push(...fin.failures.map((f) => `[takeover] ${namedURLs(f, { A: a, B: b })}`));
    const takenOverBy: Record<string, number> = {};
    for (const [name, inst] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const text = await (await fetch(`${url(inst)}/metrics`)).text();
      takenOverBy[name] = Number(/^es_cluster_runs_taken_over (\d+)/m.exec(text)?.[1] ?? NaN);
    }
    const taken = takenOverBy.A! + takenOverBy.B!;
    if (taken !== n) failures.push(`[takeover] ${taken} runs taken over (metrics), ${n} expected`);
    const r: TakeoverResult = {
      runs: n,
      pieces: plan.takeoverPieces,
      watchersPerRun: 2,
      killedAfterMs: killAt - t0,
      minPiecesAtKill: at.minChunks,
      firstResumedMs: Math.min(...fin.runs.map((x) => x.resumedAt - killAt)),
      resumedMs: dist(fin.runs.map((x) => x.resumedAt - killAt)),
      doneMs: dist(fin.runs.map((x) => x.doneAt - killAt)),
      takenOverBy,
      frames: fin.runs.reduce((s, x) => s + x.frames, 0),
    };
    log(
      `    killed ${fmt(r.killedAfterMs, 0)} ms after the first start (≥ ${r.minPiecesAtKill} pieces each); ` +
        `resumed after ${fmt(r.resumedMs.p50, 0)} ms (median), all ${fmt(r.resumedMs.max, 0)} ms; all done ` +
        `${fmt(r.doneMs.max, 0)} ms; taken over by A ${takenOverBy.A}, B ${takenOverBy.B}; ${r.frames} frames checked`,
    );
    return r;
  } finally {
    await c.stop();
  }
}

/** A failure names the instance (A, B, E) rather than its address. */
function namedURLs(text: string, servers: Record<string, Child>): string {
  let out = text;
  for (const [name, c] of Object.entries(servers)) out = out.replaceAll(String(c.ready.url), name);
  return out;
}

const SETUP_NAMES: Record<Setup, (w: number) => string> = {
  embedded: (w) => `embedded (SQLite), start + ${w > 1 ? `${w} watchers` : 'watch'} on E`,
  cluster: (w) =>
    w > 1 ? `cluster, start on A, ${w / 2} watchers on A + ${w / 2} on B` : 'cluster, start on A, watch on B',
};

/** The section's tables: console text and Markdown. */
export function renderCluster(r: ClusterResult): { text: string; markdown: string } {
  const base = (row: ClusterRow) => r.rows.find((x) => x.setup === 'embedded' && x.watchers === row.watchers);
  const latHead = [
    'runs / setup',
    'p50',
    'p99',
    'max',
    '+p50',
    '+p99',
    'by instance p50 / p99',
    '1st piece p50',
    'all arrived',
  ];
  const latBody = r.rows.map((row) => {
    const e = base(row);
    const cl = row.setup === 'cluster';
    return [
      `${r.plan.runs} ${SETUP_NAMES[row.setup](row.watchers)}`,
      fmt(row.lat.p50),
      fmt(row.lat.p99),
      fmt(row.lat.max),
      cl && e ? fmtDelta(row.lat.p50 - e.lat.p50) : '',
      cl && e ? fmtDelta(row.lat.p99 - e.lat.p99) : '',
      Object.entries(row.latBy)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, d]) => `${k} ${fmt(d.p50)} / ${fmt(d.p99)}`)
        .join(', '),
      fmt(row.ttfp.p50),
      (row.received === row.expected ? `yes (${row.received})` : `NO ${row.received}/${row.expected}`) +
        (row.catchUp > 0 ? `, ${fmt((100 * row.catchUp) / row.received, 1)}% catch-up` : ''),
    ];
  });
  const cpuHead = [
    'runs / setup',
    'CPU s/10k, instances',
    'by instance',
    'Redis',
    'PostgreSQL',
    'all',
    'loop delay max',
    'client cores',
  ];
  const cpuBody = r.rows.map((row) => {
    const inst = Object.entries(row.cpuPer10k).filter(([k]) => ['E', 'A', 'B'].includes(k));
    const all = Object.values(row.cpuPer10k).reduce((s, x) => s + x, 0);
    return [
      `${r.plan.runs} ${SETUP_NAMES[row.setup](row.watchers)}`,
      fmt(row.instancesPer10k, 3),
      inst.length > 1 ? inst.map(([k, s]) => `${k} ${fmt(s, 3)}`).join(' + ') : '',
      fmt(row.cpuPer10k.redis, 3),
      fmt(row.cpuPer10k.postgres, 3),
      fmt(all, 3),
      Object.entries(row.loopMaxMs)
        .map(([k, ms]) => `${k} ${fmt(ms, 1)}`)
        .join(', '),
      fmt(row.clientCores),
    ];
  });
  const t = r.takeover;
  const toHead = [
    'runs',
    'killed after',
    'resumed: first',
    'median',
    'all',
    'all done',
    'bound (lease + check)',
    'taken over by',
    'frames checked',
  ];
  const toBody = t
    ? [
        [
          `${t.runs} × ${t.pieces} pieces, ${t.watchersPerRun} watchers`,
          `${fmt(t.killedAfterMs, 0)} ms (≥ ${t.minPiecesAtKill} pieces)`,
          `${fmt(t.firstResumedMs, 0)} ms`,
          `${fmt(t.resumedMs.p50, 0)} ms`,
          `${fmt(t.resumedMs.max, 0)} ms`,
          `${fmt(t.doneMs.max, 0)} ms`,
          `${r.leaseMs + r.takeoverCheckMs} ms`,
          Object.entries(t.takenOverBy)
            .map(([k, x]) => `${k} ${x}`)
            .join(', '),
          String(t.frames),
        ],
      ]
    : [];
  const tgHead = ['target', 'figure', 'limit', ''];
  const tgBody = r.targets.map((x) => [
    x.name,
    x.figure,
    x.limit,
    x.pass === null ? 'n/a' : x.pass ? 'PASS' : 'MISS',
  ]);
  const intro =
    `${r.plan.runs} users × 2 runs of ${r.pieces} pieces at ${r.plan.reps} repetition(s) (fan-out ${r.plan.fanoutReps}); ` +
    'runs started with POST /runs, watched over WebSocket subscribe; + = over the embedded instance, same load';
  const toTitle =
    'Takeover: times from the SIGKILL of the owner until a run’s progress "resumed" / done reached all its watchers';
  const text = [
    `Cluster: two instances over PostgreSQL + Redis against one embedded instance (${intro})`,
    table(latHead, latBody),
    '',
    'CPU s per 10,000 pieces delivered (all watchers), by process',
    table(cpuHead, cpuBody),
    '',
    ...(t ? [toTitle, table(toHead, toBody), ''] : []),
    table(tgHead, tgBody),
  ].join('\n');
  const markdown = [
    '## Cluster: two instances over PostgreSQL + Redis against one embedded instance',
    '',
    `_${intro}._`,
    '',
    '**Latency per piece, ms**',
    '',
    markdownTable(latHead, latBody),
    '',
    '**CPU s per 10,000 pieces delivered** (all watchers), by process',
    '',
    markdownTable(cpuHead, cpuBody),
    '',
    ...(t ? [`**${toTitle}**`, '', markdownTable(toHead, toBody), ''] : []),
    markdownTable(tgHead, tgBody),
  ].join('\n');
  return { text, markdown };
}
