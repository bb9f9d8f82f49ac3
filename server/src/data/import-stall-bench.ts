/**
 * `npx tsx server/src/data/import-stall-bench.ts [rows…]`: imports `rows` behaviours (default 50,000 and
 * 100,000) into a fresh server over HTTP while one run streams, and prints how long the event loop was
 * held (largest timer gap, monitorEventLoopDelay max), the import's total time, its longest single step on
 * the loop and its publish step.
 */
import { request } from 'node:http';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../test-support/test-server.js';

/**
 * `n` behaviours of `n / 50` users, half of them named by a user row, as JSONL bytes. Each line goes
 * straight into one buffer: the client shares the server's heap here, and a joined 16 MB string would be
 * old garbage for a full collection to find in the middle of the measurement.
 */
export function importOf(n: number, prefix: string): Buffer {
  const users = Math.max(1, Math.floor(n / 50));
  const out = Buffer.alloc(200 * (n + users));
  let size = 0;
  const line = (row: object) => (size += out.write(`${JSON.stringify(row)}\n`, size));
  for (let u = 0; u < users; u += 2) {
    line({ type: 'user', id: `${prefix}_${u}`, name: `用户${u}`, profile: { city: '上海' } });
  }
  for (let i = 0; i < n; i++) {
    line({
      id: `${prefix}-${i}`,
      user_id: `${prefix}_${i % users}`,
      ts: `2026-01-${String(1 + (i % 28)).padStart(2, '0')} 10:${String(i % 60).padStart(2, '0')}`,
      action: '看车',
      object: '小米SU7',
      channel: 'store',
      detail: '停留 5 分钟, 关注续航',
    });
  }
  return out.subarray(0, size);
}

/**
 * POSTs bytes over node:http, which writes them to the socket as they are: fetch copies a body (or reads a
 * Blob) in one piece first, a stall of tens of ms on the loop being measured, since the client runs in it.
 */
export function postBytes(url: string, body: Uint8Array): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(sizes: number[]): Promise<void> {
  const s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 20, BUILTIN_FIRST_PIECE_MS: 0 });
  const api = (path: string, init?: RequestInit) => fetch(`${s.url}/api/v1${path}`, init);
  // The longest the import itself held the loop in one step, and its publish step: timed around the calls.
  const steps = { longest: 0, publish: 0 };
  const staging = s.ctx.users.imports as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['begin', 'write', 'existingBehaviours', 'publish', 'abandon', 'sweepStep']) {
    const step = staging[name]!.bind(staging);
    staging[name] = (...args) => {
      const t = performance.now();
      try {
        return step(...args);
      } finally {
        const ms = performance.now() - t;
        steps.longest = Math.max(steps.longest, ms);
        if (name === 'publish') steps.publish = ms;
      }
    };
  }
  try {
    for (const [i, n] of sizes.entries()) {
      const body = importOf(n, `bench${i}`);
      const run = (await (
        await api('/runs', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'user_0007' }),
        })
      ).json()) as { runId: string };
      const loop = monitorEventLoopDelay({ resolution: 5 });
      let last = performance.now();
      let maxGap = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
      }, 5);
      steps.longest = 0;
      loop.enable();
      const started = performance.now();
      const res = await postBytes(`${s.url}/api/v1/import?format=jsonl`, body);
      const totalMs = performance.now() - started;
      loop.disable();
      clearInterval(timer);
      await api(`/runs/${run.runId}/cancel`, { method: 'POST' });
      console.log(
        JSON.stringify({
          rows: n,
          status: res.status,
          totalMs: Math.round(totalMs),
          maxTimerGapMs: Math.round(maxGap),
          loopDelayMaxMs: Math.round(loop.max / 1e6),
          loopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
          longestStepMs: Number(steps.longest.toFixed(1)),
          publishMs: Number(steps.publish.toFixed(1)),
        }),
      );
    }
  } finally {
    await s.dispose();
  }
}

if (fileURLToPath(import.meta.url) === resolve(process.argv[1] ?? '')) {
  const sizes = process.argv.slice(2).map(Number);
  await main(sizes.length > 0 ? sizes : [50_000, 100_000]);
}
