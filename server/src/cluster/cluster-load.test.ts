import { describe, expect, it } from 'vitest';
import { oneTo, seqs, storedFrames, TestWsClient } from '../ws/test-ws-client.js';
import { useCluster } from './cluster-fixture.js';

const RUNS = 60;
const user = (i: number) => `user_${String((i % 60) + 1).padStart(4, '0')}`;

describe('many runs watched from another instance', () => {
  const cluster = useCluster();

  it('every watcher on A and on B gets every frame of every run generated on A, once and in order', async () => {
    const [a, b] = await cluster.instances(2, {
      BUILTIN_PIECES_PER_SECOND: 100,
      BUILTIN_FIRST_PIECE_MS: 20,
      MAX_RUNNING_RUNS_PER_CLIENT: 0,
    });
    // Watchers on the owner and on another instance, as a board and a script would be.
    const watchers = await Promise.all([a, b, a, b].map((s) => TestWsClient.connect(s!)));
    try {
      const ids = await Promise.all(
        Array.from({ length: RUNS }, async (_, i) => {
          const res = await fetch(`${a!.url}/api/v1/runs`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ userId: user(i) }),
          });
          expect(res.status).toBe(201);
          const { runId } = (await res.json()) as { runId: string };
          for (const w of watchers) w.send({ type: 'subscribe', runId, after: 0 });
          return runId;
        }),
      );
      for (const w of watchers) {
        for (const id of ids) {
          const frames = await w.settled(id, 60_000).catch((err: Error) => {
            throw new Error(`${err.message} (last seq ${w.lastSeq(id)})`);
          });
          const stored = await storedFrames(a!, id);
          expect(seqs(frames)).toEqual(oneTo(stored.length));
          expect(w.rawFrames(id)).toEqual(stored);
        }
      }
      // No instance died: none took a run over (an owner's settled run is not an orphan while it stores it).
      expect([a!.ctx.manager.takenOver, b!.ctx.manager.takenOver]).toEqual([0, 0]);
    } finally {
      await Promise.all(watchers.map((w) => w.close()));
    }
  }, 120_000);
});
