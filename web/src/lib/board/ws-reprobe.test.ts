import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REPROBE_BACKOFF, WsReprobe } from './ws-reprobe';

/** A probe the test answers by hand. */
function manualProbe() {
  const pending: ((ok: boolean) => void)[] = [];
  return {
    probe: vi.fn(() => new Promise<boolean>((ok) => pending.push(ok))),
    answer: (ok: boolean) => pending.shift()!(ok),
  };
}

describe('WsReprobe', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits a full-jitter delay whose cap doubles per failed probe and per fallback', async () => {
    const { probe, answer } = manualProbe();
    const found = vi.fn();
    // random() just under 1: each delay is the whole window, so the caps show.
    const r = new WsReprobe({ probe, busy: () => false, found, random: () => 1 - 1e-9 });
    const cap = (n: number) => Math.min(REPROBE_BACKOFF.maxMs, REPROBE_BACKOFF.baseMs * 2 ** n);

    r.start();
    await vi.advanceTimersByTimeAsync(cap(0) - 2);
    expect(probe).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2);
    expect(probe).toHaveBeenCalledTimes(1);
    answer(false);
    await vi.advanceTimersByTimeAsync(cap(1) - 2);
    expect(probe).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(probe).toHaveBeenCalledTimes(2);
    answer(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(found).toHaveBeenCalledTimes(1);

    // The next fallback goes on from there: a link that keeps failing is probed less and less often.
    r.start();
    await vi.advanceTimersByTimeAsync(cap(2) - 2);
    expect(probe).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2);
    expect(probe).toHaveBeenCalledTimes(3);
    r.stop();
  });

  it('spreads pages over the whole window (full jitter), never past the 5 min cap', async () => {
    const { probe } = manualProbe();
    const r = new WsReprobe({ probe, busy: () => false, found: () => {}, random: () => 0 });
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(probe).toHaveBeenCalledTimes(1);
    r.stop();

    const late = manualProbe();
    const far = new WsReprobe({
      probe: late.probe,
      busy: () => false,
      found: () => {},
      random: () => 1 - 1e-9,
    });
    for (let i = 0; i < 20; i++) far.start();
    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.maxMs);
    expect(late.probe).toHaveBeenCalledTimes(1);
    far.stop();
  });

  it('waits while requests are in flight without counting it as a failure, and a stopped round never switches', async () => {
    const { probe, answer } = manualProbe();
    const found = vi.fn();
    let busy = true;
    const r = new WsReprobe({ probe, busy: () => busy, found, random: () => 1 - 1e-9 });
    r.start();
    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.baseMs * 3);
    expect(probe).not.toHaveBeenCalled();
    busy = false;
    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.baseMs);
    expect(probe).toHaveBeenCalledTimes(1);
    expect(r.attempts).toBe(1);
    r.stop();
    answer(true);
    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.maxMs);
    expect(found).not.toHaveBeenCalled();
    expect(probe).toHaveBeenCalledTimes(1);
  });
});
