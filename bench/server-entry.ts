/**
 * The server under test in its own process: the real startServer(), with the bench model upstream,
 * demo users (user_0001…user_0060), and a fresh database the orchestrator passes in and removes.
 * Over IPC it answers `memory` (after a full GC when started with --expose-gc) and `loop` (event-loop
 * delay since the last ask, ms). BENCH_SERVER_ENV (JSON) adds settings: the cluster phase's instances get
 * DATABASE_URL, REDIS_URL and INSTANCE_ID there.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Env } from '../server/src/config.js';
import { startServer } from '../server/src/start-server.js';
import { serveIpc } from './procs.js';

// How long the event loop was held up: every piece waiting behind a long task shows up here. Sampled
// every 10 ms: a 1 ms timer kept an idle server 2.5 % busy, a cost the bare relay does not carry.
const LOOP_SAMPLE_MS = 10;
const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
loop.enable();
/** The histogram holds whole intervals between samples; the delay is what exceeds the interval. */
const delayMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);

const s = await startServer({
  env: {},
  overrides: {
    PORT: 0,
    OPENAI_BASE_URL: process.env.BENCH_MODEL_URL,
    LLM_MODEL: 'bench',
    DATABASE_PATH: process.env.BENCH_DATABASE_PATH,
    DEMO_DATA: 'on',
    LOG_LEVEL: 'warn',
    WEB_BUILD_DIR: '/nonexistent',
    // Hundreds of runs from one load client on 127.0.0.1: the per-client limit would cap the load.
    MAX_RUNNING_RUNS_PER_CLIENT: 0,
    ...(JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Partial<Env>),
  },
});
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void s.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
serveIpc((m) => {
  if (m.cmd === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const u = process.memoryUsage();
    return { rss: u.rss / 2 ** 20, heapUsed: u.heapUsed / 2 ** 20, external: u.external / 2 ** 20 };
  }
  if (m.cmd === 'loop') {
    const r = {
      p50: delayMs(loop.percentile(50)),
      p99: delayMs(loop.percentile(99)),
      max: delayMs(loop.max),
    };
    loop.reset();
    return r;
  }
  throw new Error(`unknown command ${String(m.cmd)}`);
}, stop);
process.send!({ ready: true, url: s.url });
