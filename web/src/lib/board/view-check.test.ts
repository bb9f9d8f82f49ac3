import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRunView, type RunView } from '@app/shared/client';
import type { RunStatus } from '@app/shared';
import { QUIET_MS, VERIFY_DELAY_MS, ViewCheck, type CheckedPanel } from './view-check';

const livePanel = (lastSeq: number): CheckedPanel & { view: RunView } => {
  const view = { ...createRunView('run_1'), status: 'streaming' as const, lastSeq };
  return { runId: 'run_1', view, status: 'streaming' };
};

function setup(stored: { status: RunStatus; lastSeq: number } | null) {
  const rebuild = vi.fn(() => Promise.resolve());
  const storedFn = vi.fn(() => Promise.resolve(stored));
  return { check: new ViewCheck<CheckedPanel>({ stored: storedFn, rebuild }), rebuild, stored: storedFn };
}

describe('ViewCheck', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rebuilds a live view whose run settled on the server at or below the last seq it has', async () => {
    const { check, rebuild } = setup({ status: 'interrupted', lastSeq: 40 });
    const panel = livePanel(40);
    await check.check(panel);
    expect(rebuild).toHaveBeenCalledWith(panel, 'run_1');
  });

  it('leaves alone a run still running, one with frames left to receive, and a view replaced meanwhile', async () => {
    for (const stored of [
      { status: 'running' as const, lastSeq: 10 },
      { status: 'done' as const, lastSeq: 41 },
      null,
    ]) {
      const { check, rebuild } = setup(stored);
      await check.check(livePanel(40));
      expect(rebuild).not.toHaveBeenCalled();
    }
    const { check, rebuild, stored } = setup({ status: 'done', lastSeq: 40 });
    const panel = livePanel(40);
    stored.mockImplementationOnce(() => {
      panel.view = { ...panel.view, lastSeq: 41 };
      return Promise.resolve({ status: 'done', lastSeq: 40 });
    });
    await check.check(panel);
    expect(rebuild).not.toHaveBeenCalled();
  });

  it('asks once at a time per panel, and never about a settled view', async () => {
    const { check, stored } = setup({ status: 'running', lastSeq: 1 });
    const panel = livePanel(1);
    await Promise.all([check.check(panel), check.check(panel)]);
    expect(stored).toHaveBeenCalledTimes(1);
    await check.check({ ...panel, view: { ...panel.view, status: 'done' } });
    expect(stored).toHaveBeenCalledTimes(1);
  });

  it('checks live panels that went quiet, and every panel a while after a reconnect', async () => {
    const { check, stored } = setup({ status: 'running', lastSeq: 1 });
    const quiet = livePanel(1);
    const busy = livePanel(1);
    check.seen(quiet, 0);
    check.seen(busy, QUIET_MS);
    check.tick([quiet, busy], QUIET_MS + 1);
    expect(stored).toHaveBeenCalledTimes(1);
    // Checked: the next look waits another quiet spell.
    await vi.advanceTimersByTimeAsync(0);
    check.tick([quiet, busy], QUIET_MS + 2);
    expect(stored).toHaveBeenCalledTimes(1);

    check.afterReconnect(() => [quiet, busy]);
    await vi.advanceTimersByTimeAsync(VERIFY_DELAY_MS - 1);
    expect(stored).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(stored).toHaveBeenCalledTimes(3);
  });
});
