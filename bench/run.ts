/**
 * `npm run bench [-- --quick] [-- --profile]`: starts the load model, the bare relay, the server under
 * test (fresh database) and the load client as separate processes on loopback; measures idle sockets on
 * the fresh server, then runs the load phases interleaved (direct, bare relay, server WS, server SSE at
 * each level), start bursts, fan-out and replay; prints the figures with their targets and saves JSON,
 * Markdown and an SVG chart in bench/results/; then the cluster section (bench/cluster.ts: two instances
 * over a throwaway PostgreSQL + Redis against an embedded one, fan-out, takeover of a killed instance)
 * and the long history. Exits non-zero when any received text differs from the stored text or a piece
 * went missing. See docs/benchmarks.md.
 *
 * Narrower runs: `--levels 100 --reps 2 --modes ws,bare --skip burst,fanout,replay,idle,cluster,long`, `--clients N`
 * (split the load client), `--cluster-runs N` (users in the cluster section), `--profile` (node --cpu-prof of server and bare relay, for
 * bench/profile-summary.ts), `--pieces N` (run length; 20 and 400 split per-run from per-piece cost),
 * `--bare node` (the node:http reference relay in the bare relay's slot). BENCH_SERVER_ENTRY=<file>
 * swaps in an instrumented server entry; BENCH_NODE_ARGS adds node flags to the server (`--perf-basic-prof`
 * for `perf record -p <pid>`).
 */
import { benchCluster, renderCluster, type ClusterResult } from './cluster.js';
import { benchLongHistory, renderLongHistory, type LongHistoryResult } from './long-history.js';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mode, PhaseSpec, RunsResult, Targets } from './load-client.js';
import { clockMs, cpuSeconds, fdLimits, memoryMb, resetPeak, startChild, type Child } from './procs.js';
import {
  emptyCell,
  nameBareSlot,
  maxOf,
  render,
  summarize,
  targets,
  RATE,
  type Cell,
  type IdleResult,
  type ReplayResult,
} from './report.js';
import { dist, fmt } from './stats.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const argValue = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const clientCount = Number(argValue('--clients') ?? 1);
const skip = new Set((argValue('--skip') ?? '').split(',').filter(Boolean));
const levelsArg = argValue('--levels')?.split(',').map(Number);
const repsArg = argValue('--reps') === undefined ? undefined : Number(argValue('--reps'));

/** Pieces per run (`--pieces N`): the targets are set at 100; other lengths split per-run from per-piece cost. */
const PIECES = Number(argValue('--pieces') ?? 100);
if (!Number.isInteger(PIECES) || PIECES < 2 || PIECES > 100_000) {
  console.error(`bench: --pieces must be an integer from 2 to 100000, got ${argValue('--pieces')}`);
  process.exit(2);
}
/** `--bare node` puts the node:http reference relay in the bare relay's place. */
const bareArg = argValue('--bare') ?? 'hono';
if (bareArg !== 'hono' && bareArg !== 'node') {
  console.error(`bench: --bare must be hono (the default) or node, got ${bareArg}`);
  process.exit(2);
}
const nodeFloor = bareArg === 'node';
/** How long one run streams: piece i goes out i/RATE s after the first. */
const RUN_MS = ((PIECES - 1) / RATE) * 1000;
const IDLE_SOCKETS = 10_000;
const REPLAY_PIECES = 10_000;
const plan = quick
  ? {
      levels: [
        { runs: 1, reps: 1 },
        { runs: 100, reps: 1 },
      ],
      burst: { levels: [100], reps: 1 },
      fanout: { runs: 100, watchers: 10, reps: 1 },
      replayReps: 3,
      cluster: {
        runs: 100,
        reps: 1,
        fanoutWatchers: 4,
        fanoutReps: 1,
        takeoverRuns: 20,
        takeoverPieces: 200,
      },
    }
  : {
      levels: [
        { runs: 1, reps: 4 },
        { runs: 100, reps: 3 },
        { runs: 500, reps: 3 },
      ],
      burst: { levels: [100, 500], reps: 2 },
      fanout: { runs: 100, watchers: 10, reps: 2 },
      replayReps: 5,
      cluster: {
        runs: 100,
        reps: 2,
        fanoutWatchers: 4,
        fanoutReps: 1,
        takeoverRuns: 20,
        takeoverPieces: 200,
      },
    };
if (levelsArg) plan.levels = levelsArg.map((runs) => ({ runs, reps: repsArg ?? (runs === 1 ? 3 : 2) }));
else if (repsArg) for (const l of plan.levels) l.reps = repsArg;
// `--cluster-runs N`: the cluster section's concurrent users (the hop at a load that leaves cores idle).
const clusterRunsArg = argValue('--cluster-runs');
if (clusterRunsArg) plan.cluster.runs = Number(clusterRunsArg);
/** The whole bench stops by itself after this, whatever happens (the cluster section adds its own share). */
const DEADLINE_MS = (quick ? 115_000 : 15 * 60_000) + (skip.has('cluster') ? 0 : 150_000);
const PHASE_TIMEOUT_MS = 60_000;
/** Longer than the server's counter-write and checkpoint intervals (1 s each by default). */
const SETTLE_MS = 1_300;

class Skipped extends Error {}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stdout.write(`${s}\n`);

function machine(): string {
  const cpu =
    /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return `${availableParallelism()} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, Node ${process.version}, ${date} UTC${quick ? ', quick mode' : ''}`;
}

const children: Child[] = [];
/** Stops of what the cluster section starts besides bench children: PostgreSQL and Redis. */
const stops: (() => Promise<void>)[] = [];
let dbDir = '';
async function cleanup(): Promise<void> {
  await Promise.all(children.map((c) => c.stop()));
  await Promise.allSettled(stops.splice(0).map((s) => s()));
  if (dbDir) rmSync(dbDir, { recursive: true, force: true });
}

const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench: deadline of ${DEADLINE_MS / 1000} s passed; stopping.\n`);
  void cleanup().finally(() => process.exit(2));
}, DEADLINE_MS);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void cleanup().finally(() => process.exit(130)));
}

async function main(): Promise<number> {
  const started = clockMs();
  const variant = [
    nodeFloor ? 'bare slot: node:http reference relay (node-relay.ts; targets assume bare-relay.ts)' : '',
    PIECES !== 100 ? `${PIECES} pieces per run (targets assume 100)` : '',
  ].filter(Boolean);
  if (nodeFloor) nameBareSlot('node:http relay');
  const info = [machine(), ...variant].join('; ');
  log(`bench: ${info}`);
  const fds = fdLimits();
  const fdsWanted = IDLE_SOCKETS + 2_048;
  const canRaise = fds.hard >= fdsWanted;
  const raise = fds.soft < fdsWanted && canRaise ? { fds: fdsWanted } : {};
  dbDir = mkdtempSync(join(tmpdir(), 'es-bench-'));
  const profDir = join(BENCH, 'results', 'profiles');
  if (profile) mkdirSync(profDir, { recursive: true });
  // One folder per process: the tsx loader thread writes a profile of its own next to the main one.
  const prof = (name: string) => (profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, name)}`] : []);

  const model = await startChild('load model', join(BENCH, 'load-model.ts'));
  children.push(model);
  const modelURL = String(model.ready.baseURL);
  await model.call({ cmd: 'pace', pace: { pieces: PIECES, piecesPerSecond: RATE } });
  const bare = await startChild('bare relay', join(BENCH, nodeFloor ? 'node-relay.ts' : 'bare-relay.ts'), {
    env: { BENCH_MODEL_URL: modelURL },
    nodeArgs: prof('bare-relay'),
  });
  children.push(bare);
  const server = await startChild(
    'server',
    process.env.BENCH_SERVER_ENTRY ?? join(BENCH, 'server-entry.ts'),
    {
      env: { BENCH_MODEL_URL: modelURL, BENCH_DATABASE_PATH: join(dbDir, 'bench.db') },
      nodeArgs: [
        '--expose-gc',
        ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        ...prof('server'),
      ],
      ...raise,
    },
  );
  children.push(server);
  const clients: Child[] = [];
  for (let i = 0; i < clientCount; i++) {
    const c = await startChild(`load client ${i + 1}`, join(BENCH, 'load-client.ts'), raise);
    children.push(c);
    clients.push(c);
  }
  const targetsURLs: Targets = {
    modelURL,
    bareURL: String(bare.ready.url),
    serverURL: String(server.ready.url),
  };
  log(
    `bench: model ${modelURL}, bare relay ${targetsURLs.bareURL}, server ${targetsURLs.serverURL} (pid ${server.pid})`,
  );

  const relayPid = (m: Mode) => (m === 'bare' ? bare.pid : m === 'direct' ? null : server.pid);
  const cells = new Map<string, Cell>();
  const failures: string[] = [];
  let userOffset = 0;

  type Arrival = 'steady' | 'burst';

  /**
   * One phase of `mode` with `runs` concurrent users, CPU and peak RSS of the relay around it.
   * steady: users' first runs start evenly over one run's length and each user then does a second run
   * straight away, so from RUN_MS to 2×RUN_MS all users stream at once (the window where delivered
   * pieces/s is measured) and starts arrive at the rate they would in a steady state.
   * burst: every run starts in the same instant (a thundering herd).
   */
  async function phase(
    mode: Mode,
    runs: number,
    watchers: number,
    arrival: Arrival,
    record: boolean,
  ): Promise<void> {
    const shares = clients.map(
      (_, i) => Math.floor(runs / clients.length) + (i < runs % clients.length ? 1 : 0),
    );
    const active = clients.filter((_, i) => shares[i]! > 0);
    await Promise.all(
      active.map((c, i) =>
        c.call({
          cmd: 'prepare',
          sockets: mode === 'ws' ? shares[i]! * watchers : 0,
          serverURL: targetsURLs.serverURL,
        }),
      ),
    );
    await sleep(150);
    const pid = relayPid(mode);
    if (pid) resetPeak(pid);
    const cpuNow = () => ({
      relay: pid ? cpuSeconds(pid) : 0,
      model: cpuSeconds(model.pid),
      client: active.reduce((s, c) => s + cpuSeconds(c.pid), 0),
    });
    const onServer = mode === 'ws' || mode === 'sse';
    if (onServer) await server.call({ cmd: 'loop' });
    const cpu0 = cpuNow();
    const t0 = clockMs();
    let offset = userOffset;
    const steady = arrival === 'steady';
    const window: [number, number] = steady ? [RUN_MS, 2 * RUN_MS] : [0, RUN_MS];
    const results = await Promise.all(
      active.map((c, i) => {
        const spec: PhaseSpec = {
          mode,
          users: shares[i]!,
          runsPerUser: steady ? 2 : 1,
          spreadMs: steady ? RUN_MS : 0,
          watchers,
          pieces: PIECES,
          targets: targetsURLs,
          userOffset: offset,
          timeoutMs: PHASE_TIMEOUT_MS,
          window,
        };
        offset += shares[i]!;
        return c.call<RunsResult>({ cmd: 'runs', ...spec }, PHASE_TIMEOUT_MS + 10_000);
      }),
    );
    userOffset = offset;
    // Work the server defers belongs to the phase too: the last tick's batch, the run counters it
    // writes every second and the WAL checkpoint its worker thread runs every second.
    await sleep(onServer ? SETTLE_MS : 60);
    const wallS = (clockMs() - t0) / 1000;
    const cpu1 = cpuNow();
    const peak = pid ? memoryMb(pid).peak : 0;
    const loop = onServer ? await server.call<{ p99: number; max: number }>({ cmd: 'loop' }) : null;
    const verified = await Promise.all(
      active.map((c) => c.call<{ checked: number; failures: string[] }>({ cmd: 'verify' })),
    );
    const phaseFailures = [...results.flatMap((r) => r.failures), ...verified.flatMap((v) => v.failures)];
    const sum = (f: (r: RunsResult) => number) => results.reduce((s, r) => s + f(r), 0);
    const received = sum((r) => r.received);
    const label = `${mode} ${runs}${watchers > 1 ? `×${watchers}` : ''}${steady ? '' : ' burst'}`;
    if (phaseFailures.length > 0) {
      failures.push(...phaseFailures.map((f) => `[${label}] ${f}`));
      log(`  !! ${label}: ${phaseFailures.length} failure(s), first: ${phaseFailures[0]}`);
    }
    const windowS = (window[1] - window[0]) / 1000;
    const lat = dist(results.flatMap((r) => r.latencies));
    log(
      `  ${label.padEnd(16)} ${received}/${sum((r) => r.expected)} pieces, ${fmt(sum((r) => r.windowReceived) / windowS, 0)}/s ` +
        `delivered of ${fmt(sum((r) => r.windowSent) / windowS, 0)}/s sent, latency p50 ${fmt(lat.p50)} p99 ${fmt(lat.p99)} ms, ` +
        `relay CPU ${fmt(cpu1.relay - cpu0.relay)} s${loop ? `, loop delay max ${fmt(loop.max, 1)} ms` : ''}, ` +
        `client ${fmt((cpu1.client - cpu0.client) / wallS)} cores`,
    );
    if (!record) return;
    const key = `${mode}:${runs}:${watchers}:${arrival}`;
    const cell: Cell = cells.get(key) ?? emptyCell(mode, runs, watchers, arrival, PIECES);
    cells.set(key, cell);
    cell.reps++;
    for (const r of results) {
      for (const v of r.latencies) cell.latencies.push(v);
      for (const v of r.ttfp) cell.ttfp.push(v);
    }
    cell.received += received;
    cell.catchUp += sum((r) => r.catchUp);
    cell.expected += sum((r) => r.expected);
    cell.windowSent += sum((r) => r.windowSent);
    cell.windowReceived += sum((r) => r.windowReceived);
    cell.windowS += windowS;
    cell.relayCpu += cpu1.relay - cpu0.relay;
    cell.modelCpu += cpu1.model - cpu0.model;
    cell.clientCpu += cpu1.client - cpu0.client;
    cell.wallS += wallS;
    cell.peakRssMb = Math.max(cell.peakRssMb, peak);
    if (loop) {
      cell.loopP99Ms = maxOf(cell.loopP99Ms, loop.p99);
      cell.loopMaxMs = maxOf(cell.loopMaxMs, loop.max);
    }
    cell.failures.push(...phaseFailures);
  }

  const MODES: Mode[] = (argValue('--modes')?.split(',') as Mode[] | undefined) ?? [
    'direct',
    'bare',
    'ws',
    'sse',
  ];
  log('bench: warm-up (not recorded)');
  for (const m of MODES) await phase(m, 20, 1, 'burst', false);

  // ---- idle WebSockets: on the freshly started server, so RSS counts sockets, not leftovers of load ----
  async function idleSockets(): Promise<IdleResult> {
    let idle: IdleResult;
    const perProcess = Math.max(0, (canRaise ? Math.max(fds.soft, fdsWanted) : fds.soft) - 512);
    if (skip.has('idle')) idle = { skipped: 'skipped on request (--skip idle)' };
    else if (!canRaise && fds.soft < fdsWanted) {
      idle = {
        skipped: `open-file limit ${fds.soft} (hard ${fds.hard}) is below the ${fdsWanted} the server needs for ${IDLE_SOCKETS} sockets; raise it with ulimit -n`,
      };
      log(`bench: idle sockets SKIPPED: ${idle.skipped}`);
    } else {
      const need = Math.ceil(IDLE_SOCKETS / perProcess);
      const idleClients = [...clients];
      while (idleClients.length < need) {
        const c = await startChild(
          `idle client ${idleClients.length + 1}`,
          join(BENCH, 'load-client.ts'),
          raise,
        );
        children.push(c);
        idleClients.push(c);
      }
      const used = idleClients.slice(0, need);
      log(`bench: ${IDLE_SOCKETS} idle WebSockets over ${used.length} client process(es)`);
      const before = await server.call<{ rss: number; heapUsed: number }>({ cmd: 'memory' });
      const rssBefore = memoryMb(server.pid).rss;
      const share = Math.ceil(IDLE_SOCKETS / used.length);
      const opened = await Promise.all(
        used.map((c, i) =>
          c.call<{ opened: number; failed: number; firstError: string }>(
            {
              cmd: 'idle',
              serverURL: targetsURLs.serverURL,
              count: Math.min(share, IDLE_SOCKETS - i * share),
            },
            120_000,
          ),
        ),
      );
      await sleep(500);
      const after = await server.call<{ rss: number; heapUsed: number }>({ cmd: 'memory' });
      const rss = memoryMb(server.pid).rss;
      const sockets = opened.reduce((s, o) => s + o.opened, 0);
      const failed = opened.reduce((s, o) => s + o.failed, 0);
      idle = {
        sockets,
        failed,
        clients: used.length,
        rssBeforeMb: rssBefore,
        rssMb: rss,
        heapBeforeMb: before.heapUsed,
        heapMb: after.heapUsed,
        perSocketKb: sockets > 0 ? ((rss - rssBefore) * 1024) / sockets : NaN,
      };
      if (failed > 0)
        log(`  ${failed} sockets failed to open: ${opened.find((o) => o.firstError)?.firstError}`);
      log(`  server RSS ${fmt(rssBefore, 0)} → ${fmt(rss, 0)} MB with ${sockets} idle sockets`);
      await Promise.all(used.map((c) => c.call({ cmd: 'closeIdle' })));
      await sleep(1_000);
    }
    return idle;
  }

  const idle = await idleSockets();

  for (const { runs, reps } of plan.levels) {
    log(`bench: ${runs} concurrent user(s), ${reps} repetition(s), modes interleaved`);
    for (let rep = 0; rep < reps; rep++) for (const m of MODES) await phase(m, runs, 1, 'steady', true);
  }
  for (const runs of skip.has('burst') ? [] : plan.burst.levels) {
    log(`bench: start burst, ${runs} runs started at once, ${plan.burst.reps} repetition(s)`);
    for (let rep = 0; rep < plan.burst.reps; rep++)
      for (const m of MODES) await phase(m, runs, 1, 'burst', true);
  }
  const fo = plan.fanout;
  if (!skip.has('fanout'))
    log(
      `bench: fan-out, ${fo.runs} users × ${fo.watchers} watchers per run (direct: 1 reader, for reference)`,
    );
  for (let rep = 0; rep < (skip.has('fanout') ? 0 : fo.reps); rep++) {
    await phase('direct', fo.runs, 1, 'steady', true);
    await phase('ws', fo.runs, fo.watchers, 'steady', true);
    await phase('sse', fo.runs, fo.watchers, 'steady', true);
  }

  // ---- replay of a long run to a re-attaching client ----
  log(`bench: replay of a ${REPLAY_PIECES}-piece run`);
  let replay: ReplayResult | null = null;
  if (!skip.has('replay'))
    await model.call({ cmd: 'pace', pace: { pieces: REPLAY_PIECES, piecesPerSecond: 0 } });
  try {
    if (skip.has('replay')) throw new Skipped();
    const created = await clients[0]!.call<{ runId: string; lastSeq: number; ms: number }>({
      cmd: 'create',
      serverURL: targetsURLs.serverURL,
      timeoutMs: 60_000,
    });
    replay = {
      frames: created.lastSeq,
      pieces: REPLAY_PIECES,
      createMs: created.ms,
      ws: [],
      sse: [],
      failures: [],
    };
    for (let rep = 0; rep < plan.replayReps; rep++) {
      for (const transport of ['ws', 'sse'] as const) {
        const r = await clients[0]!.call<{ ms: number; frames: number; failures: string[] }>({
          cmd: 'replay',
          serverURL: targetsURLs.serverURL,
          transport,
          runId: created.runId,
          lastSeq: created.lastSeq,
        });
        replay[transport].push(r.ms);
        replay.failures.push(...r.failures);
      }
    }
    failures.push(...replay.failures.map((f) => `[replay] ${f}`));
    log(
      `  ${created.lastSeq} frames: WS ${replay.ws.map((v) => fmt(v, 1)).join(', ')} ms; SSE ${replay.sse.map((v) => fmt(v, 1)).join(', ')} ms`,
    );
  } catch (err) {
    if (!(err instanceof Skipped)) throw err;
  } finally {
    await model.call({ cmd: 'pace', pace: { pieces: PIECES, piecesPerSecond: RATE } });
  }

  // ---- cluster: two instances over PostgreSQL + Redis against one embedded instance ----
  let cluster: ClusterResult | null = null;
  if (!skip.has('cluster')) {
    log('bench: cluster (PostgreSQL + Redis, two instances) against one embedded instance');
    // Fresh instances of their own: the load phases' server and the bare relay only take cores now.
    await Promise.all([server.stop(), bare.stop()]);
    try {
      cluster = await benchCluster(plan.cluster, {
        log,
        model,
        client: clients[0]!,
        pieces: PIECES,
        rate: RATE,
        runMs: RUN_MS,
        settleMs: SETTLE_MS,
        // A phase takes about two run lengths: a watcher stuck for longer is a failure, found sooner.
        phaseTimeoutMs: Math.min(PHASE_TIMEOUT_MS, 3 * RUN_MS + 15_000),
        dir: dbDir,
        server: async (name, env, profileAs) => {
          const c = await startChild(name, process.env.BENCH_SERVER_ENTRY ?? join(BENCH, 'server-entry.ts'), {
            env: { BENCH_MODEL_URL: modelURL, ...env },
            nodeArgs: [
              '--expose-gc',
              ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
              ...(profileAs ? prof(profileAs) : []),
            ],
          });
          children.push(c);
          return c;
        },
        onCleanup: (stop) => void stops.push(stop),
      });
      failures.push(...cluster.failures.map((f) => `[cluster] ${f}`));
    } catch (err) {
      const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push(`[cluster] the section failed (--skip cluster leaves it out): ${why}`);
      log(`  !! cluster section failed: ${why}`);
    }
  }

  await cleanup();
  children.length = 0;

  // ---- a 5,000-behaviour history, chunked, on a server of its own ----
  let long: LongHistoryResult | null = null;
  if (!skip.has('long')) {
    log('bench: long history (5,000 behaviours, chunked)');
    long = await benchLongHistory(log);
  }

  const rows = [...cells.values()].map(summarize);
  const order: Mode[] = ['direct', 'bare', 'ws', 'sse'];
  rows.sort(
    (a, b) =>
      a.arrival.localeCompare(b.arrival) * -1 ||
      a.watchers - b.watchers ||
      a.runs - b.runs ||
      order.indexOf(a.mode) - order.indexOf(b.mode),
  );
  const ts = targets(rows, idle, replay);
  const report = render(rows, idle, replay, ts, info);
  log('');
  log(report.text);
  if (cluster) {
    log('');
    log(renderCluster(cluster).text);
  }
  if (long) {
    log('');
    log(renderLongHistory(long));
  }

  const outDir = join(BENCH, 'results');
  mkdirSync(outDir, { recursive: true });
  const stamp = `${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}${quick ? '-quick' : ''}`;
  // Two short runs can end in the same minute: never overwrite one with the other.
  let base = join(outDir, `bench-${stamp}`);
  for (let n = 2; existsSync(`${base}.json`); n++) base = join(outDir, `bench-${stamp}-${n}`);
  const json = {
    machine: info,
    quick,
    plan: {
      ...plan,
      pieces: PIECES,
      piecesPerSecond: RATE,
      idleSockets: IDLE_SOCKETS,
      replayPieces: REPLAY_PIECES,
      clients: clientCount,
    },
    durationS: (clockMs() - started) / 1000,
    rows,
    idle,
    replay,
    cluster,
    long,
    targets: ts,
    failures,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(
    `${base}.md`,
    `${report.markdown}\n${cluster ? `\n${renderCluster(cluster).markdown}\n` : ''}${long ? `\n${renderLongHistory(long)}\n` : ''}`,
  );
  writeFileSync(`${base}.svg`, report.svg);
  log('');
  log(
    `bench: saved ${relative(process.cwd(), base)}.{json,md,svg} after ${fmt((clockMs() - started) / 1000, 0)} s`,
  );
  if (profile) log(`bench: CPU profiles in ${relative(process.cwd(), profDir)}`);

  if (failures.length > 0) {
    process.stderr.write(
      `\n${'!'.repeat(72)}\nbench FAILED: ${failures.length} delivery/consistency failure(s):\n`,
    );
    for (const f of failures.slice(0, 30)) process.stderr.write(`  - ${f}\n`);
    if (failures.length > 30) process.stderr.write(`  … and ${failures.length - 30} more\n`);
    process.stderr.write(`${'!'.repeat(72)}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    clearTimeout(watchdog);
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(
      `\nbench FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    void cleanup().finally(() => process.exit(1));
  },
);
