import { describe, expect, it } from 'vitest';
import { deadline, type TestServer } from '../test-support/test-server.js';
import { getRun, poll, seqs, oneTo, storedFrames, textOf, useWsServer } from './test-ws-client.js';

/** A gauge of the server's, from its metrics. */
async function gauge(s: TestServer, name: string): Promise<number> {
  const text = await deadline(
    fetch(`${s.url}/metrics`).then((r) => r.text()),
    3000,
    'GET /metrics',
  );
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} missing from /metrics`);
  return Number(m[1]);
}

/** The server's count of runs held in memory. */
const inMemory = (s: TestServer): Promise<number> => gauge(s, 'es_runs_in_memory');
const parked = (s: TestServer): Promise<number> => gauge(s, 'es_parked_watchers');

describe('finished runs held in memory are bounded (SETTLED_RUNS_IN_MEMORY)', () => {
  const ws = useWsServer({
    SETTLED_RUNS_IN_MEMORY: 2,
    BUILTIN_PIECES_PER_SECOND: 400,
    BUILTIN_FIRST_PIECE_MS: 0,
  });

  it('drops the oldest finished runs past the bound, watched or not, and replays them from storage', async () => {
    const s = ws.server;
    const a = await ws.connect();
    const ids: string[] = [];
    for (const user of ['user_0001', 'user_0002', 'user_0003', 'user_0004']) ids.push(await a.start(user));
    for (const id of ids) await a.settled(id, 15_000);
    // `a` is still subscribed to all four, but has all of each: their logs need not stay in memory.
    expect(await poll(async () => ((await inMemory(s)) === 2 ? 2 : undefined), 3000, 'two runs left')).toBe(
      2,
    );
    expect(await parked(s)).toBe(2);
    await a.close();
    expect(await inMemory(s)).toBe(2);
    // Closing the socket lets go of its parked subscriptions too.
    expect(await parked(s)).toBe(0);

    // The first run left memory; a new watcher still gets its whole log, byte for byte as first sent.
    const b = await ws.connect();
    const ack = await b.request({ type: 'subscribe', runId: ids[0], after: 0 });
    expect(ack).toMatchObject({ type: 'ack', op: 'subscribe', runId: ids[0], status: 'done' });
    const frames = await b.settled(ids[0]!);
    expect(b.rawFrames(ids[0]!)).toEqual(a.rawFrames(ids[0]!));
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    expect((await getRun(s, ids[0]!)).text).toBe(textOf(frames));
    // Read back and caught up with, it counts against the bound like the rest.
    expect(await inMemory(s)).toBe(2);
  });

  it('a cancelled run that left memory is resumed from storage and its log carries on', async () => {
    const s = ws.server;
    const a = await ws.connect();
    const cancelled = await a.start('user_0005');
    await a.framesOf(cancelled, 5, 'llm_chunk');
    expect(await a.request({ type: 'cancel', runId: cancelled })).toMatchObject({
      type: 'ack',
      op: 'cancel',
    });
    const before = await a.settled(cancelled);
    expect(before.at(-1)).toMatchObject({ type: 'cancelled' });
    await a.close();
    // Two later runs finish unwatched after it: it is the oldest, so it leaves memory.
    const b = await ws.connect();
    const later = [await b.start('user_0006'), await b.start('user_0007')];
    for (const id of later) await b.settled(id, 15_000);
    await b.close();
    await poll(async () => ((await inMemory(s)) === 2 ? true : undefined), 3000, 'two runs left');

    const c = await ws.connect();
    const ack = await c.request({ type: 'resume', runId: cancelled });
    expect(ack).toMatchObject({ type: 'ack', op: 'resume', runId: cancelled });
    const after = await c.settled(cancelled, 15_000);
    expect(after[0]!.seq).toBe(before.length + 1);
    expect(after.at(-1)).toMatchObject({ type: 'done' });
    const all = [...before, ...after];
    expect(seqs(all)).toEqual(oneTo(all.length));
    expect(await storedFrames(s, cancelled)).toEqual([...a.rawFrames(cancelled), ...c.rawFrames(cancelled)]);
  });

  it('a socket still subscribed to a run that left memory gets the frames of its resume', async () => {
    const s = ws.server;
    const a = await ws.connect();
    const id = await a.start('user_0008');
    await a.framesOf(id, 5, 'llm_chunk');
    expect(await a.request({ type: 'cancel', runId: id })).toMatchObject({ type: 'ack', op: 'cancel' });
    const before = await a.settled(id);
    // Two later runs finish after it; `a` stays subscribed to the cancelled one, which leaves memory.
    const b = await ws.connect();
    for (const user of ['user_0009', 'user_0010']) await b.settled(await b.start(user), 15_000);
    await poll(async () => ((await inMemory(s)) === 2 ? true : undefined), 3000, 'two runs left');

    // Another socket resumes it: `a`, which never re-subscribed, gets the rest with no gap.
    const c = await ws.connect();
    expect(await c.request({ type: 'resume', runId: id })).toMatchObject({ type: 'ack', op: 'resume' });
    const all = await a.framesOf(id, 1, 'done', 15_000);
    expect(all.slice(0, before.length)).toEqual(before);
    expect(seqs(all)).toEqual(oneTo(all.length));
    expect(await storedFrames(s, id)).toEqual(a.rawFrames(id));
    // Two more runs finish: the resumed run leaves memory again, `a`'s subscription parked once more.
    await c.close();
    await a.settled(id);
    await b.close();
    const d = await ws.connect();
    for (const user of ['user_0011', 'user_0012']) await d.settled(await d.start(user), 15_000);
    await d.close();
    await poll(async () => ((await parked(s)) === 1 ? true : undefined), 3000, 'a parked on the run');
    // Unsubscribing from a run not in memory is answered and lets go of the parked subscription.
    expect(await a.request({ type: 'unsubscribe', runId: id })).toMatchObject({
      type: 'ack',
      op: 'unsubscribe',
    });
    expect(await parked(s)).toBe(0);
  });
});
