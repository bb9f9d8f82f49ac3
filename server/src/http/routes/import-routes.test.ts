import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody } from '@app/shared';
import { importOf, postBytes } from '../../data/import-stall-bench.js';
import { readSse } from '../../test-support/sse-client.js';
import { deadline, startTestServer, type TestServer } from '../../test-support/test-server.js';

// The old one-transaction import held the loop 1.3–2 s at 50,000 rows on a quiet machine, 3.5 s and more
// on a loaded one. This 2-core machine is shared: with other suites running (load 10), a CPU profile showed
// this process unscheduled for 275 ms with nothing of ours running, while the import's own steps last a few
// ms. So the loop is bounded at 500 ms, well above that and well below the old stall. A frame or a /health
// answer takes several turns (model → SDK → run → commit → SSE → client, all in this process), each of which
// may also wait behind a write slice, so they get 800 ms.
const MAX_LOOP_STALL_MS = 500;
const MAX_HOPS_STALL_MS = 800;

describe('a large import', () => {
  let s: TestServer;
  const api = (path: string, init?: RequestInit) => fetch(`${s.url}/api/v1${path}`, init);
  beforeAll(async () => {
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 20, BUILTIN_FIRST_PIECE_MS: 0 });
  });
  afterAll(() => s.dispose());

  it('answers 409 import_in_progress while another import is being written, then imports', async () => {
    const other = await s.ctx.users.imports.begin();
    const one = JSON.stringify({ type: 'user', id: 'busy_1', name: '赵女士' });
    const res = await api('/import?format=jsonl', { method: 'POST', body: one });
    expect(res.status).toBe(409);
    expect(((await res.json()) as ApiErrorBody).error.code).toBe('import_in_progress');
    await s.ctx.users.imports.abandon(other);
    expect((await api('/import?format=jsonl', { method: 'POST', body: one })).status).toBe(201);
    expect(await (await api('/users/busy_1')).json()).toMatchObject({ name: '赵女士' });
  });

  it('keeps a run streaming and /health answering while 50,000 rows are imported', async () => {
    // Made up front: the client shares this process, and building 8 MB would stall the loop measured.
    const body = importOf(50_000, 'stall');
    const started = (await (
      await api('/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'user_0007' }),
      })
    ).json()) as { runId: string };
    const stream = readSse(`${s.url}/api/v1/runs/${started.runId}/stream`, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300));

    const loop = monitorEventLoopDelay({ resolution: 10 });
    let importing = true;
    const healthMs: number[] = [];
    const pollHealth = async () => {
      while (importing) {
        const t = performance.now();
        expect((await api('/health')).status).toBe(200);
        healthMs.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    loop.enable();
    const from = performance.now();
    const polling = pollHealth();
    const res = await deadline(
      postBytes(`${s.url}/api/v1/import?format=jsonl`, body),
      30_000,
      'the import of 50,000 rows',
    ).finally(() => (importing = false));
    const until = performance.now();
    loop.disable();
    await deadline(polling, 5_000, 'the last /health');
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text)).toEqual({ ok: true, users: 1000, behaviours: 50_000, createdUsers: 500 });

    expect((await api(`/runs/${started.runId}/cancel`, { method: 'POST' })).status).toBe(202);
    const frames = (await stream).frames.map((f) => f.at);
    // The run must have streamed across the whole import, or its gaps would say nothing about it.
    expect(frames.filter((at) => at > until).length).toBeGreaterThan(0);
    const during = [from, ...frames.filter((at) => at > from && at < until), until];
    const frameGap = Math.max(...during.slice(1).map((at, i) => at - during[i]!));
    const loopMax = loop.max / 1e6;
    const report = { importMs: Math.round(until - from), loopMax, frameGap, health: Math.max(...healthMs) };
    expect(report.loopMax, JSON.stringify(report)).toBeLessThan(MAX_LOOP_STALL_MS);
    expect(report.frameGap, JSON.stringify(report)).toBeLessThan(MAX_HOPS_STALL_MS);
    expect(report.health, JSON.stringify(report)).toBeLessThan(MAX_HOPS_STALL_MS);
    expect(healthMs.length).toBeGreaterThan(5);

    const user = (await (await api('/users/stall_3')).json()) as { behaviours: unknown[]; name: unknown };
    expect(user).toMatchObject({ name: null, behaviours: { length: 50 } });
  }, 60_000);
});
