import { describe, expect, it, vi } from 'vitest';
import type { PanelStatus } from '../status';
import { FrameLoop, type StatusChange } from './frame-loop';

/** A scheduler the test fires by hand. */
function manualScheduler() {
  let pending: (() => void) | null = null;
  const cancels = vi.fn();
  return {
    schedule: vi.fn((cb: () => void) => {
      pending = cb;
      return () => {
        cancels();
        pending = null;
      };
    }),
    fire: () => pending?.(),
    cancels,
  };
}

const panel = (next: PanelStatus, notify = true) => {
  const p = { status: 'starting' as PanelStatus, notify, sync: vi.fn(() => (p.status = next)) };
  return p;
};

describe('FrameLoop', () => {
  it('syncs each changed panel once per frame however many frames came, and reports status changes', () => {
    const s = manualScheduler();
    const updates: StatusChange<ReturnType<typeof panel>>[][] = [];
    const loop = new FrameLoop<ReturnType<typeof panel>>((c) => updates.push(c), s.schedule);
    const a = panel('streaming');
    const b = panel('starting', false);
    for (let i = 0; i < 50; i++) loop.mark(a);
    loop.mark(b);
    expect(s.schedule).toHaveBeenCalledTimes(1);
    expect(a.sync).not.toHaveBeenCalled();
    s.fire();
    expect(a.sync).toHaveBeenCalledTimes(1);
    expect(b.sync).toHaveBeenCalledTimes(1);
    expect(updates).toEqual([[{ panel: a, from: 'starting', to: 'streaming', notify: true }]]);

    loop.mark(a);
    expect(s.schedule).toHaveBeenCalledTimes(2);
  });

  it('flushes at once on demand, cancelling the scheduled frame', () => {
    const s = manualScheduler();
    const loop = new FrameLoop<ReturnType<typeof panel>>(() => {}, s.schedule);
    const a = panel('done');
    loop.mark(a);
    loop.flush();
    expect(s.cancels).toHaveBeenCalledTimes(1);
    expect(a.sync).toHaveBeenCalledTimes(1);
    s.fire();
    expect(a.sync).toHaveBeenCalledTimes(1);
  });
});
