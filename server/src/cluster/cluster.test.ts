import { describe, expect, it } from 'vitest';
import type { RunFrame } from '@app/shared';
import type { ClosedEvent } from '../model/index.js';
import { readSse } from '../test-support/sse-client.js';
import { deadline, type TestServer } from '../test-support/test-server.js';
import { eventKeys, getRun, oneTo, seqs, storedFrames, textOf, TestWsClient } from '../ws/test-ws-client.js';
import { useCluster } from './cluster-fixture.js';

const USER = 'user_0007';
const post = (s: { url: string }, path: string, body?: unknown) =>
  fetch(`${s.url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** The events of an uninterrupted run of the same user, on any instance. */
async function reference(s: TestServer, userId: string): Promise<string[]> {
  const c = await TestWsClient.connect(s);
  try {
    const id = await c.start(userId);
    await c.settled(id, 20_000);
    return eventKeys(await getRun(s, id));
  } finally {
    await c.close();
  }
}

describe('three instances on one PostgreSQL and one Redis', () => {
  const cluster = useCluster();

  it('start on A, watch on B over SSE and on C over WebSocket, cancel from C, resume from B', async () => {
    const [a, b, c] = await cluster.instances(3, { BUILTIN_PIECES_PER_SECOND: 150 });
    const want = await reference(a!, USER);
    const started = await post(a!, '/runs', { userId: USER });
    expect(started.status).toBe(201);
    const { runId } = (await started.json()) as { runId: string };

    const sse = readSse(`${b!.url}/api/v1/runs/${runId}/stream`, { timeoutMs: 30_000 });
    const ws = await TestWsClient.connect(c!);
    const sub = await ws.request({ type: 'subscribe', runId, after: 0 });
    expect(sub).toMatchObject({ type: 'ack', op: 'subscribe', runId });
    await ws.framesOf(runId, 40, 'llm_chunk', 10_000);

    // A's built-in model sees its request end within 150 ms of the cancel reaching C (all three share
    // this process's clock). The real cancel runs; the wrapper only notes when C got it.
    const closed = new Promise<ClosedEvent>((ok) => a!.builtin!.events.once('closed', ok));
    let reachedC = 0;
    const cancel = c!.ctx.manager.cancel.bind(c!.ctx.manager);
    c!.ctx.manager.cancel = (id, reason) => {
      reachedC = performance.now();
      return cancel(id, reason);
    };
    expect(await ws.request({ type: 'cancel', runId })).toMatchObject({ type: 'ack', op: 'cancel' });
    const upstream = await deadline(closed, 2000, "the owner's upstream to close");
    expect(upstream.byClient).toBe(true);
    expect(reachedC).toBeGreaterThan(0);
    console.log(`cancel reached C → upstream closed on A: ${(upstream.at - reachedC).toFixed(1)} ms`);
    expect(upstream.at - reachedC).toBeLessThan(150);
    await ws.until(() => ws.frames(runId).find((f) => f.type === 'cancelled'), 5000, 'cancelled on C');

    const resumed = await post(b!, `/runs/${runId}/resume`);
    expect(resumed.status).toBe(202);
    const frames = await ws.until(
      () => (ws.frames(runId).at(-1)?.type === 'done' ? ws.frames(runId) : undefined),
      20_000,
      'the resumed run to finish on C',
    );
    const read = await sse;
    await ws.close();

    const stored = await storedFrames(c!, runId);
    expect(seqs(frames)).toEqual(oneTo(stored.length));
    expect(ws.rawFrames(runId)).toEqual(stored);
    // SSE ends at the cancel (a settled run), every frame up to it, once and in order.
    expect(read.frames.map((f) => JSON.stringify(f.frame))).toEqual(stored.slice(0, read.frames.length));
    expect(read.frames.at(-1)!.frame.type).toBe('cancelled');
    const detail = await getRun(b!, runId);
    expect(detail.status).toBe('done');
    expect(detail.text).toBe(textOf(frames));
    expect(eventKeys(detail)).toEqual(want);
  }, 90_000);

  it('a watcher that reconnects to another instance mid-run gets every frame once, in order', async () => {
    const [a, b, c] = await cluster.instances(3, { BUILTIN_PIECES_PER_SECOND: 150 });
    const w1 = await TestWsClient.connect(b!);
    const runId = await w1.start(USER);
    const first = await w1.framesOf(runId, 80, 'llm_chunk', 10_000);
    const cursor = w1.lastSeq(runId);
    w1.kill();
    // Over SSE on A with Last-Event-ID, then over WebSocket on C: both from the same cursor.
    const sse = await readSse(`${a!.url}/api/v1/runs/${runId}/stream`, {
      headers: { 'last-event-id': String(cursor) },
      timeoutMs: 30_000,
    });
    const w2 = await TestWsClient.connect(c!);
    await w2.request({ type: 'subscribe', runId, after: cursor });
    const rest = await w2.settled(runId, 20_000);
    await w2.close();
    const stored = await storedFrames(a!, runId);
    expect(first.length).toBeGreaterThan(0);
    expect([...w1.rawFrames(runId), ...w2.rawFrames(runId)]).toEqual(stored);
    expect(sse.frames.map((f) => JSON.stringify(f.frame))).toEqual(stored.slice(cursor));
    expect(seqs(rest)[0]).toBe(cursor + 1);
  }, 60_000);

  it('kill -9 of the owner mid-generation: another instance takes the run over and finishes it', async () => {
    const [a, b] = await cluster.instances(2, { BUILTIN_PIECES_PER_SECOND: 150 });
    const want = await reference(a!, USER);
    const doomed = await cluster.process('doomed', { BUILTIN_PIECES_PER_SECOND: '80' });
    const started = await post(doomed, '/runs', { userId: USER });
    const { runId } = (await started.json()) as { runId: string };
    const ws = await TestWsClient.connect(b!);
    await ws.request({ type: 'subscribe', runId, after: 0 });
    await ws.framesOf(runId, 60, 'llm_chunk', 10_000);
    const killedAt = performance.now();
    doomed.signalGroup('SIGKILL');
    await doomed.exited;

    const frames = await ws.until(
      () => (ws.frames(runId).at(-1)?.type === 'done' ? ws.frames(runId) : undefined),
      30_000,
      'the run to finish on another instance',
    );
    const resumedAt = frames.find((f) => f.type === 'progress' && f.stage === 'resumed');
    expect(resumedAt).toBeDefined();
    await ws.close();
    const stored = await storedFrames(a!, runId);
    expect(ws.rawFrames(runId)).toEqual(stored);
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    // No terminal frame before the end: watchers saw the run go on.
    expect(frames.slice(0, -1).some((f: RunFrame) => ['done', 'error', 'cancelled'].includes(f.type))).toBe(
      false,
    );
    const detail = await getRun(b!, runId);
    expect(detail.status).toBe('done');
    expect(detail.text).toBe(textOf(frames));
    expect(eventKeys(detail)).toEqual(want);
    const metrics = (await Promise.all([a!, b!].map((s) => fetch(`${s.url}/metrics`).then((r) => r.text()))))
      .map((t) => Number(/^es_cluster_runs_taken_over (\d+)/m.exec(t)?.[1] ?? 0))
      .reduce((x, y) => x + y, 0);
    expect(metrics).toBe(1);
    console.log(`taken over and finished ${Math.round(performance.now() - killedAt)} ms after the kill`);
  }, 90_000);

  it('SIGTERM hands the running runs to the other instances: a rolling deploy ends no run', async () => {
    const [a] = await cluster.instances(1, { BUILTIN_PIECES_PER_SECOND: 150 });
    const want = await reference(a!, USER);
    const leaving = await cluster.process('leaving', { BUILTIN_PIECES_PER_SECOND: '80' });
    const { runId } = (await (await post(leaving, '/runs', { userId: USER })).json()) as { runId: string };
    const ws = await TestWsClient.connect(a!);
    await ws.request({ type: 'subscribe', runId, after: 0 });
    await ws.framesOf(runId, 60, 'llm_chunk', 10_000);
    leaving.signalGroup('SIGTERM');
    expect((await deadline(leaving.exited, 10_000, 'the leaving instance to exit')).code).toBe(0);
    const frames = await ws.until(
      () => (ws.frames(runId).at(-1)?.type === 'done' ? ws.frames(runId) : undefined),
      30_000,
      'the run to finish on the instance that stays',
    );
    await ws.close();
    expect(frames.slice(0, -1).some((f) => ['done', 'error', 'cancelled'].includes(f.type))).toBe(false);
    expect(ws.rawFrames(runId)).toEqual(await storedFrames(a!, runId));
    expect(eventKeys(await getRun(a!, runId))).toEqual(want);
  }, 90_000);

  it('Redis restarting empty ends running runs with bus_unavailable (retryable); settled runs keep their log', async () => {
    const [a, b] = await cluster.instances(2, { BUILTIN_PIECES_PER_SECOND: 100 });
    const want = await reference(a!, USER);
    const settled = (await (await fetch(`${a!.url}/api/v1/runs?limit=1`)).json()) as {
      items: { id: string }[];
    };
    const settledId = settled.items[0]!.id;
    const before = await storedFrames(a!, settledId);
    const ws = await TestWsClient.connect(b!);
    const runId = (await (await post(a!, '/runs', { userId: USER })).json()) as { runId: string };
    await ws.request({ type: 'subscribe', runId: runId.runId, after: 0 });
    await ws.framesOf(runId.runId, 40, 'llm_chunk', 10_000);
    await cluster.redis.restart();
    const end = await ws.until(
      () => ws.frames(runId.runId).find((f) => f.type === 'error'),
      15_000,
      'the run to end with bus_unavailable',
    );
    expect(end).toMatchObject({ type: 'error', code: 'bus_unavailable', retryable: true });
    const frames = ws.frames(runId.runId);
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    expect(ws.rawFrames(runId.runId)).toEqual(await storedFrames(a!, runId.runId));
    expect(await storedFrames(b!, settledId)).toEqual(before);
    // Once Redis is back, a resume continues the run in the same log to the uninterrupted events.
    const resumed = await post(b!, `/runs/${runId.runId}/resume`);
    expect(resumed.status).toBe(202);
    await ws.until(
      () => (ws.frames(runId.runId).at(-1)?.type === 'done' ? true : undefined),
      20_000,
      'the resumed run to finish',
    );
    await ws.close();
    expect(eventKeys(await getRun(a!, runId.runId))).toEqual(want);
  }, 90_000);

  it('a start retried with its key on another instance returns the run generating elsewhere and leaves its records alone', async () => {
    const [a, b] = await cluster.instances(2, { BUILTIN_PIECES_PER_SECOND: 150 });
    const want = await reference(a!, USER);
    const key = 'retried-elsewhere';
    const first = await post(a!, '/runs', { userId: USER, key });
    expect(first.status).toBe(201);
    const { runId } = (await first.json()) as { runId: string };
    const ws = await TestWsClient.connect(a!);
    try {
      await ws.request({ type: 'subscribe', runId, after: 0 });
      await ws.framesOf(runId, 2, 'event', 10_000);
      // The client's retry reaches B (another instance behind the load balancer): the same run, and B
      // writes nothing of it (its copy would overwrite A's events with those of this moment).
      const again = await post(b!, '/runs', { userId: USER, key });
      expect(again.status).toBe(200);
      expect(((await again.json()) as { runId: string }).runId).toBe(runId);
      await ws.settled(runId, 30_000);
      const detail = await getRun(b!, runId);
      expect(detail.status).toBe('done');
      expect(eventKeys(detail)).toEqual(want);
      expect(textOf(ws.frames(runId))).toBe(detail.text);
    } finally {
      await ws.close();
    }
  }, 60_000);

  it('an import on A is visible on B at once', async () => {
    const [a, b] = await cluster.instances(2);
    const body =
      '{"type":"user","id":"u_new","name":"新客户","profile":{"city":"上海"}}\n' +
      '{"type":"behaviour","id":"nb1","user_id":"u_new","ts":"2026-03-01 10:00","action":"看车","object":"小米SU7","channel":"门店"}\n';
    const res = await fetch(`${a!.url}/api/v1/import?format=jsonl`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    expect(res.status).toBe(201);
    const user = await fetch(`${b!.url}/api/v1/users/u_new`);
    expect(user.status).toBe(200);
    expect(await user.json()).toMatchObject({ name: '新客户', behaviours: [{ id: 'nb1', action: '看车' }] });
  }, 30_000);

  it('instances started at the same moment on an empty database migrate and load it once', async () => {
    const servers = await cluster.instances(3);
    const healths = await Promise.all(
      servers.map((s) => fetch(`${s.url}/api/v1/health`).then((r) => r.json())),
    );
    expect(healths.map((h: { instance: string }) => h.instance)).toEqual(['a', 'b', 'c']);
    expect(
      healths.every(
        (h: { users: number; storage: string; bus: string }) =>
          h.users === 63 && h.storage === 'postgres' && h.bus === 'redis',
      ),
    ).toBe(true);
  }, 30_000);

  it('PostgreSQL unreachable: requests get 503 storage_unavailable, and the instance recovers', async () => {
    const [a] = await cluster.instances(1);
    await cluster.pg.down();
    try {
      const res = await fetch(`${a!.url}/api/v1/users?limit=1`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'storage_unavailable' } });
      const start = await post(a!, '/runs', { userId: USER });
      expect(start.status).toBe(503);
    } finally {
      await cluster.pg.up();
    }
    const back = await deadline(
      (async () => {
        for (;;) {
          const r = await fetch(`${a!.url}/api/v1/users?limit=1`);
          if (r.status === 200) return r;
          await new Promise((ok) => setTimeout(ok, 200));
        }
      })(),
      15_000,
      'the instance to answer again',
    );
    expect(back.status).toBe(200);
  }, 60_000);
});
