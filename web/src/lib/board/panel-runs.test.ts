import { describe, expect, it, vi } from 'vitest';
import type { RunFrame } from '@app/shared';
import type { PanelStatus } from '../status';
import { PanelRuns, type RunPanel } from './panel-runs';
import type { Transport } from './transport';

const chunk = (runId: string, seq: number, content: string): RunFrame =>
  ({ type: 'llm_chunk', runId, seq, content }) as RunFrame;

const fakePanel = (): RunPanel => {
  const p: RunPanel = {
    runId: null,
    view: null,
    status: 'idle',
    clear(status: PanelStatus) {
      p.view = null;
      p.status = status;
    },
  };
  return p;
};

function setup() {
  const transport = { kind: 'ws', unwatch: vi.fn() } as unknown as Transport & {
    unwatch: ReturnType<typeof vi.fn>;
  };
  const ctx = { transport: () => transport, changed: vi.fn() };
  return { runs: new PanelRuns<RunPanel>(ctx), ctx, transport };
}

describe('PanelRuns', () => {
  it("keeps frames that come before their run's panel, and applies them when it attaches", () => {
    const { runs, ctx } = setup();
    const panel = fakePanel();
    runs.frame(chunk('run_1', 1, '用户'));
    runs.frame(chunk('run_1', 2, '看车'));
    runs.attach(panel, 'run_1');
    expect(panel.view?.text).toBe('用户看车');
    runs.frame(chunk('run_1', 2, '看车'));
    runs.frame(chunk('run_1', 3, '|'));
    expect(panel.view?.text).toBe('用户看车|');
    // The chunked copy the panel reads holds the same text: a duplicate frame is not logged twice.
    expect(panel.view?.textLog.since(0)).toBe('用户看车|');
    expect(ctx.changed).toHaveBeenCalledTimes(4);
  });

  it('lets go of a run on detach, and rebuilds a view whose log restarted', () => {
    const { runs, transport } = setup();
    const panel = fakePanel();
    runs.attach(panel, 'run_1');
    runs.frame(chunk('run_1', 1, 'a'));
    runs.reset('run_1');
    expect(panel.view?.text).toBe('');
    runs.frame(chunk('run_1', 1, 'b'));
    expect(panel.view?.text).toBe('b');
    expect(panel.view?.textLog.since(0)).toBe('b');
    runs.detach(panel);
    expect(transport.unwatch).toHaveBeenCalledWith('run_1');
    expect([panel.runId, panel.view]).toEqual([null, null]);
    // Frames of a run nobody shows wait as orphans, not in the old panel.
    runs.frame(chunk('run_1', 2, 'c'));
    expect(panel.view).toBeNull();
  });
});
