import { describe, expect, it } from 'vitest';
import type { TestWsClient } from './test-ws-client.js';
import { eventKeys, getRun, oneTo, seqs, storedFrames, textOf, useWsServer } from './test-ws-client.js';

/** The unfinished last line of a run's text as a client sees it. */
const tailOf = (c: TestWsClient, runId: string): string => {
  const text = textOf(c.frames(runId));
  return text.slice(text.lastIndexOf('\n') + 1);
};

describe('resume after a read-back from storage', () => {
  // Every settled run leaves memory at once, so each resume reads the run back from its stored log.
  const ws = useWsServer({ SETTLED_RUNS_IN_MEMORY: 0, BUILTIN_FIRST_PIECE_MS: 0 });

  /** Cancels once the model is inside a line's summary: the fragment alone would pass as a line. */
  async function cancelInsideSummary(c: TestWsClient, runId: string): Promise<void> {
    await c.until(
      () => (tailOf(c, runId).split('|').length === 6 && !tailOf(c, runId).endsWith('|') ? true : undefined),
      10_000,
      'a line cut inside its summary',
    );
    expect((await c.request({ type: 'cancel', runId })).type).toBe('ack');
    const frames = await c.settled(runId);
    expect(frames.at(-1)!.type).toBe('cancelled');
    // Still mid-line when the cancel took effect (the pace leaves far more than the cancel's time).
    expect(tailOf(c, runId).split('|')).toHaveLength(6);
  }

  it('a line cut twice, with read-backs between, ends with the events of an uninterrupted run', async () => {
    const { builtin, ctx } = ws.server;
    const ref = await ws.connect();
    builtin!.setPace({ piecesPerSecond: 400 });
    const refRun = await ref.start('user_0010');
    await ref.settled(refRun);
    const reference = eventKeys(await getRun(ws.server, refRun));
    expect(reference.length).toBeGreaterThan(5);

    // Slow enough that a cancel always lands inside the line it was sent in.
    builtin!.setPace({ piecesPerSecond: 25 });
    const c = await ws.connect();
    const runId = await c.start('user_0010');
    await c.framesOf(runId, 1, 'event', 15_000);
    await cancelInsideSummary(c, runId);
    expect((await c.request({ type: 'resume', runId })).type).toBe('ack');
    // Cut again inside the same line, regenerated: read back, the first fragment must not pass as it.
    await cancelInsideSummary(c, runId);
    expect(ctx.manager.isRunning(runId)).toBe(false);

    builtin!.setPace({ piecesPerSecond: 400 });
    expect((await c.request({ type: 'resume', runId })).type).toBe('ack');
    await c.until(() => (c.frames(runId).at(-1)?.type === 'done' ? true : undefined), 15_000, 'done');
    const frames = c.frames(runId);
    expect(seqs(frames)).toEqual(oneTo(frames.length));
    const stored = await getRun(ws.server, runId);
    expect(stored.status).toBe('done');
    expect(stored.text).toBe(textOf(frames));
    expect(eventKeys(stored)).toEqual(reference);
    expect(frames.filter((f) => f.type === 'event')).toHaveLength(reference.length);
    expect(await storedFrames(ws.server, runId)).toEqual(c.rawFrames(runId));
  }, 60_000);
});
