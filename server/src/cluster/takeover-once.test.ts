import { describe, expect, it } from 'vitest';
import type { RunFrame } from '@app/shared';
import type { ClusterOwnership } from '../store/redis/cluster-ownership.js';
import { deadline } from '../test-support/test-server.js';
import { oneTo, poll, seqs, storedFrames, TestWsClient } from '../ws/test-ws-client.js';
import { useCluster } from './cluster-fixture.js';

describe('taking over a run whose owner died', () => {
  const cluster = useCluster();

  it('two takeovers of the same run at once on one instance (two sweeps, or a sweep and a handoff notice): one continues it, the other leaves it alone', async () => {
    // No sweep of its own: the test starts the takeovers.
    const [b] = await cluster.instances(1, { TAKEOVER_CHECK_MS: 3_600_000 });
    const doomed = await cluster.process('doomed', { BUILTIN_PIECES_PER_SECOND: '80' });
    const started = await fetch(`${doomed.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'user_0007' }),
    });
    const { runId } = (await started.json()) as { runId: string };
    const ws = await TestWsClient.connect(b!);
    try {
      await ws.request({ type: 'subscribe', runId, after: 0 });
      await ws.framesOf(runId, 30, 'llm_chunk', 10_000);
      doomed.signalGroup('SIGKILL');
      await doomed.exited;
      const ownership = b!.ctx.store.ownership;
      await poll(
        async () => ((await ownership.ownerElsewhere(runId)) === null ? true : undefined),
        10_000,
        'the lease to run out',
      );

      // The interleaving that lets both through: the second takeover checks the run before the first has
      // claimed its lease, and claims it after (a claim of a lease this instance holds succeeds); it then
      // finds the run the first is continuing not `running` yet, or running, and lets go of the lease or
      // continues the run a second time.
      const claim = ownership.claim.bind(ownership);
      const logIntact = ownership.logIntact.bind(ownership);
      let claimed!: () => void;
      const firstClaim = new Promise<void>((ok) => (claimed = ok));
      let checks = 0;
      ownership.claim = async (id) => {
        const ok = await claim(id);
        if (ok) claimed();
        return ok;
      };
      ownership.logIntact = async (id) => {
        if (++checks === 2) await firstClaim;
        return logIntact(id);
      };
      const manager = b!.ctx.manager as unknown as { takeOver(id: string): Promise<void>; takenOver: number };
      await deadline(
        Promise.all([manager.takeOver(runId), manager.takeOver(runId)]),
        10_000,
        'both takeovers',
      );
      expect(manager.takenOver).toBe(1);
      // The lease stays with the generator: let go, another instance would take the run over again.
      expect(ownership.holds(runId)).toBe(true);
      expect(await (ownership as ClusterOwnership).bus.owner(runId)).toBe('a');

      const frames = await ws.settled(runId, 30_000);
      expect(frames.at(-1)?.type).toBe('done');
      expect(seqs(frames)).toEqual(oneTo(frames.length));
      // Continued once, by one generator: one `resumed` frame, and no line of the model's output twice.
      expect(frames.filter((f: RunFrame) => f.type === 'progress' && f.stage === 'resumed')).toHaveLength(1);
      expect(ws.rawFrames(runId)).toEqual(await storedFrames(b!, runId));
      const detail = (await (await fetch(`${b!.url}/api/v1/runs/${runId}`)).json()) as {
        rejected: { code: string }[];
      };
      expect(detail.rejected.filter((r) => r.code !== 'cut_off')).toEqual([]);
    } finally {
      await ws.close();
    }
  }, 60_000);
});
