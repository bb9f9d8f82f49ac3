import { describe, expect, it } from 'vitest';
import { deadline } from '../test-support/test-server.js';
import { eventKeys, getRun, oneTo, seqs, storedFrames, textOf, TestWsClient } from '../ws/test-ws-client.js';
import { useCluster } from './cluster-fixture.js';

const USER = 'user_0007';

/** DATABASE_URL alone: one instance on PostgreSQL, frames of running runs in its `frame_journal`. */
describe('PostgreSQL without Redis', () => {
  const cluster = useCluster();

  it('streams, cancels and resumes a run exactly as on SQLite, the log stored in PostgreSQL', async () => {
    const [a] = await cluster.instances(1, { REDIS_URL: undefined, BUILTIN_PIECES_PER_SECOND: 200 });
    const health = (await (await fetch(`${a!.url}/api/v1/health`)).json()) as {
      storage: string;
      bus: string;
    };
    expect(health).toMatchObject({ storage: 'postgres', bus: 'in-process' });
    const c = await TestWsClient.connect(a!);
    const want = eventKeys(
      await getRun(a!, await c.start(USER).then(async (id) => (await c.settled(id), id))),
    );
    const runId = await c.start(USER);
    await c.framesOf(runId, 40, 'llm_chunk');
    expect(await c.request({ type: 'cancel', runId })).toMatchObject({ type: 'ack', op: 'cancel' });
    await c.until(() => c.frames(runId).find((f) => f.type === 'cancelled'), 5000, 'cancelled');
    expect(await c.request({ type: 'resume', runId })).toMatchObject({ type: 'ack', op: 'resume' });
    const frames = await c.until(
      () => (c.frames(runId).at(-1)?.type === 'done' ? c.frames(runId) : undefined),
      20_000,
      'the resumed run to finish',
    );
    await c.close();
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    expect(c.rawFrames(runId)).toEqual(await storedFrames(a!, runId));
    const detail = await getRun(a!, runId);
    expect(detail.text).toBe(textOf(frames));
    expect(eventKeys(detail)).toEqual(want);
  }, 60_000);

  it('kill -9 mid-run: the restarted instance finds the run in the journal and continues it', async () => {
    const [a] = await cluster.instances(1, { REDIS_URL: undefined });
    const env = { REDIS_URL: '', BUILTIN_PIECES_PER_SECOND: '80' };
    const first = await cluster.process('solo', env);
    const started = await fetch(`${first.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: USER }),
    });
    const { runId } = (await started.json()) as { runId: string };
    const c = await TestWsClient.connect(first);
    await c.request({ type: 'subscribe', runId, after: 0 });
    await c.framesOf(runId, 50, 'llm_chunk', 10_000);
    first.signalGroup('SIGKILL');
    await first.exited;
    const seen = c.rawFrames(runId);
    c.kill();

    const second = await cluster.process('solo', env);
    const again = await TestWsClient.connect(second);
    await again.request({ type: 'subscribe', runId, after: seen.length });
    await deadline(
      again.until(() => (again.frames(runId).at(-1)?.type === 'done' ? true : undefined), 20_000, 'done'),
      25_000,
      'the continued run to finish',
    );
    await again.close();
    // Every frame the first client had is in the log under its seq; the rest follows it.
    const stored = await storedFrames(a!, runId);
    expect(stored.slice(0, seen.length)).toEqual(seen);
    expect([...seen, ...again.rawFrames(runId)]).toEqual(stored);
    expect(stored.some((f) => f.includes('"code":"interrupted"'))).toBe(true);
    expect((await getRun(a!, runId)).status).toBe('done');
  }, 60_000);
});
