import { describe, expect, it, vi } from 'vitest';
import type { PanelStatus } from '../status';
import { FrameLoop, type StatusChange } from './frame-loop';

/** A scheduler the test fires by hand, as an animation frame or as the hidden-tab timer. */
function manualScheduler() {
  let pending: ((inFrame: boolean) => void) | null = null;
  const cancels = vi.fn();
  return {
    schedule: vi.fn((cb: (inFrame: boolean) => void) => {
      pending = cb;
      return () => {
        cancels();
        pending = null;
      };
    }),
    frame: () => pending?.(true),
    timer: () => pending?.(false),
    cancels,
  };
}

type P = { status: PanelStatus; notify: boolean; sync: ReturnType<typeof vi.fn<() => void>>; name: string };
const synced: string[] = [];
const panel = (name: string, next: PanelStatus = 'streaming', notify = true): P => {
  const p: P = {
    name,
    status: 'starting',
    notify,
    sync: vi.fn(() => {
      p.status = next;
      synced.push(name);
    }),
  };
  return p;
};

describe('FrameLoop', () => {
  it('syncs each changed panel once per frame however many frames came, and reports status changes', () => {
    const s = manualScheduler();
    const updates: StatusChange<P>[][] = [];
    const loop = new FrameLoop<P>((c) => updates.push(c), { schedule: s.schedule });
    const a = panel('a');
    const b = panel('b', 'starting', false);
    for (let i = 0; i < 50; i++) loop.mark(a);
    loop.mark(b);
    expect(s.schedule).toHaveBeenCalledTimes(1);
    expect(a.sync).not.toHaveBeenCalled();
    s.frame();
    expect(a.sync).toHaveBeenCalledTimes(1);
    expect(b.sync).toHaveBeenCalledTimes(1);
    expect(updates).toEqual([[{ panel: a, from: 'starting', to: 'streaming', notify: true }]]);

    loop.mark(a);
    expect(s.schedule).toHaveBeenCalledTimes(2);
  });

  it('flushes at once on demand, cancelling the scheduled frame', () => {
    const s = manualScheduler();
    const loop = new FrameLoop<P>(() => {}, { schedule: s.schedule });
    const a = panel('a', 'done');
    loop.mark(a);
    loop.flush();
    expect(s.cancels).toHaveBeenCalledTimes(1);
    expect(a.sync).toHaveBeenCalledTimes(1);
    s.frame();
    expect(a.sync).toHaveBeenCalledTimes(1);
  });

  it('keeps a frame within its budget: the panels left go first in the next frame, taking turns', () => {
    const s = manualScheduler();
    let clock = 0;
    const render = vi.fn(() => (clock += 3)); // each panel's DOM update costs 3 ms
    const loop = new FrameLoop<P>(() => {}, { schedule: s.schedule, render, budgetMs: 4, now: () => clock });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => panel(n));
    for (const p of [a, b, c, d]) loop.mark(p!);
    synced.length = 0;
    s.frame();
    expect(synced).toEqual(['a', 'b']);
    // a streams on: it waits behind c and d.
    loop.mark(a!);
    s.frame();
    expect(synced).toEqual(['a', 'b', 'c', 'd']);
    s.frame();
    expect(synced).toEqual(['a', 'b', 'c', 'd', 'a']);
    expect(render).toHaveBeenCalledTimes(5);
  });

  it('syncs every panel at once when no animation frame came (hidden tab)', () => {
    const s = manualScheduler();
    let clock = 0;
    const loop = new FrameLoop<P>(() => {}, {
      schedule: s.schedule,
      render: () => (clock += 10),
      budgetMs: 4,
      now: () => clock,
    });
    const panels = ['a', 'b', 'c'].map((n) => panel(n));
    for (const p of panels) loop.mark(p);
    synced.length = 0;
    s.timer();
    expect(synced).toEqual(['a', 'b', 'c']);
  });
});
