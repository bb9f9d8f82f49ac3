import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Subscription, type FrameSink, type FrameSource } from './subscription.js';

// A full collection on demand, so the test can tell whether anything still holds the log.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sink = (sent: string[]): FrameSink => ({
  send: (json) => void sent.push(json),
  congested: () => false,
  onDrain: () => {},
  cork: () => {},
  uncork: () => {},
});

const logOf = (n: number): FrameSource & { frames: string[] } => {
  const frames = Array.from({ length: n }, (_, i) => `{"seq":${i + 1}}`);
  return { frames, committedSeq: n, settled: true, frameAt: (seq) => frames[seq - 1] };
};

describe('Subscription.park', () => {
  it('lets go of the log once caught up, and carries on from its cursor after rebind', async () => {
    const sent: string[] = [];
    // The log is reachable only through the subscription once this returns.
    const { sub, held } = ((): { sub: Subscription; held: WeakRef<object> } => {
      const source = logOf(1000);
      const s = new Subscription('run_x', source, sink(sent), 0);
      s.pump();
      return { sub: s, held: new WeakRef(source) };
    })();
    expect(sent).toHaveLength(1000);
    expect(sub.caughtUp).toBe(true);
    sub.park();
    // WeakRefs are cleared only after the job that created them ends.
    await new Promise((r) => setImmediate(r));
    gc();
    expect(held.deref()).toBeUndefined();

    // Read back and grown by a resume: only the frames after the cursor are sent.
    const resumed = logOf(1003);
    sub.rebind(resumed);
    sub.pump();
    expect(sent.slice(1000)).toEqual(['{"seq":1001}', '{"seq":1002}', '{"seq":1003}']);
  });

  it('is not caught up while the run runs or frames remain', () => {
    const running = { ...logOf(3), settled: false };
    const sub = new Subscription('run_y', running, sink([]), 0);
    sub.pump();
    expect(sub.caughtUp).toBe(false);
    const behind = new Subscription('run_z', logOf(3), sink([]), 1);
    expect(behind.caughtUp).toBe(false);
  });
});
