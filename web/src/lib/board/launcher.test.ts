import { describe, expect, it, vi } from 'vitest';
import { ClientError } from '@app/shared/client';
import type { PanelStatus } from '../status';
import { Launcher, type LaunchPanel } from './launcher';
import { PanelRuns } from './panel-runs';
import type { Transport } from './transport';

const fakePanel = (userId: string): LaunchPanel => {
  const p: LaunchPanel = {
    userId,
    runId: null,
    view: null,
    status: 'idle',
    queuePos: 0,
    startKey: null,
    notify: false,
    liveSince: null,
    clear(status: PanelStatus) {
      p.view = null;
      p.status = status;
    },
  };
  return p;
};

function setup(maxLive: number | null) {
  const answers: ((r: string | Error) => void)[] = [];
  const transport = {
    kind: 'ws',
    start: vi.fn(
      () => new Promise<string>((ok, fail) => answers.push((r) => (typeof r === 'string' ? ok(r) : fail(r)))),
    ),
    unwatch: vi.fn(),
  } as unknown as Transport;
  const panels: LaunchPanel[] = [];
  const limit = { maxLive };
  const runs = new PanelRuns<LaunchPanel>({ transport: () => transport, changed: () => {} });
  const failed = vi.fn();
  const launcher = new Launcher<LaunchPanel>({
    transport: () => transport,
    onBoard: () => true,
    live: () => panels.filter((p) => p.status === 'starting' || p.status === 'streaming').length,
    maxLive: () => limit.maxLive,
    runs,
    failed,
    changed: () => {},
  });
  for (const u of ['a', 'b', 'c', 'd']) panels.push(fakePanel(u));
  return { launcher, panels, transport, answers, limit, failed };
}

const statuses = (panels: LaunchPanel[]) => panels.map((p) => `${p.userId}:${p.status}:${p.queuePos}`);

describe('Launcher', () => {
  it("starts no more runs at once than the server's limit, whatever the batch asked for", () => {
    const { launcher, panels, transport } = setup(2);
    launcher.batch(panels, 4);
    expect(statuses(panels)).toEqual(['a:starting:0', 'b:starting:0', 'c:queued:1', 'd:queued:2']);
    expect(transport.start).toHaveBeenCalledTimes(2);
    // A single start goes first in the queue, but the limit holds it back too.
    const e = fakePanel('e');
    launcher.single(e);
    expect([e.status, e.queuePos, panels[2]!.queuePos]).toEqual(['queued', 1, 2]);
  });

  it('holds everything while the limit is not known, and starts when it arrives', () => {
    const { launcher, panels, transport, limit } = setup(null);
    launcher.batch(panels, 3);
    expect(transport.start).not.toHaveBeenCalled();
    limit.maxLive = 8;
    launcher.pump();
    expect(statuses(panels)).toEqual(['a:starting:0', 'b:starting:0', 'c:starting:0', 'd:queued:1']);
  });

  it('a refused start frees its place for the next one', async () => {
    const { launcher, panels, answers, failed } = setup(1);
    launcher.batch(panels.slice(0, 2), 1);
    answers[0]!(new ClientError('user_not_found', 'no such user'));
    await vi.waitFor(() => expect(failed).toHaveBeenCalledTimes(1));
    expect(statuses(panels.slice(0, 2))).toEqual(['a:idle:0', 'b:starting:0']);
    answers[1]!('run_b');
    await vi.waitFor(() => expect(panels[1]!.runId).toBe('run_b'));
  });
});
