import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunStatus } from '@app/shared';
import { ClientError } from '@app/shared/client';
import type { PanelStatus } from '../status';
import { PanelRuns } from './panel-runs';
import { RunRequests, type RequestPanel } from './run-requests';
import type { Transport } from './transport';

const fakePanel = (): RequestPanel => {
  const p: RequestPanel = {
    runId: null,
    view: null,
    status: 'idle',
    notify: true,
    liveSince: null,
    busy: false,
    durationMs: 0,
    clear(status: PanelStatus) {
      p.view = null;
      p.status = status;
    },
  };
  return p;
};

function setup(watch: () => Promise<RunStatus | null> = () => Promise.resolve('running')) {
  const transport = {
    kind: 'ws',
    watch: vi.fn(watch),
    unwatch: vi.fn(),
    cancel: vi.fn(() => Promise.resolve()),
    resume: vi.fn(() => Promise.resolve()),
  };
  const ctx = {
    transport: () => transport as unknown as Transport,
    onBoard: vi.fn(() => true),
    forgotten: vi.fn(),
    failed: vi.fn(),
    startedAt: vi.fn(() => Promise.resolve(1_000)),
    requeue: vi.fn(),
  };
  const runs = new PanelRuns<RequestPanel>({ transport: ctx.transport, changed: () => {} });
  return { requests: new RunRequests(runs, ctx), ctx, transport, runs };
}

describe('RunRequests', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('watches an existing run from seq 1; only a running one deserves toasts', async () => {
    const { requests, transport } = setup();
    const panel = fakePanel();
    await requests.watch(panel, 'run_1');
    expect(transport.watch).toHaveBeenCalledWith('run_1', 0);
    expect([panel.runId, panel.status, panel.notify]).toEqual(['run_1', 'attaching', true]);
    const old = setup(() => Promise.resolve('done'));
    const settled = fakePanel();
    await old.requests.watch(settled, 'run_2');
    expect(settled.notify).toBe(false);
  });

  it('starts afresh when the server does not know the run, and tries again while there is no connection', async () => {
    const { requests, ctx, transport } = setup(() =>
      Promise.reject(new ClientError('run_not_found', 'gone')),
    );
    const panel = fakePanel();
    await requests.watch(panel, 'run_x');
    expect([panel.runId, panel.status]).toEqual([null, 'idle']);
    expect(ctx.forgotten).toHaveBeenCalledWith(panel);

    transport.watch.mockImplementationOnce(() => Promise.reject(new ClientError('disconnected', 'down')));
    transport.watch.mockImplementationOnce(() => Promise.resolve('running'));
    await requests.watch(panel, 'run_y');
    expect(panel.status).toBe('attaching');
    await vi.advanceTimersByTimeAsync(3000);
    expect(transport.watch).toHaveBeenCalledTimes(3);
    expect(panel.runId).toBe('run_y');
    expect(ctx.failed).not.toHaveBeenCalled();
  });

  it('re-watches every run from its last frame on a new transport, and queues again a start that died with the old one', () => {
    const { requests, ctx, transport, runs } = setup();
    const shown = fakePanel();
    runs.attach(shown, 'run_1');
    shown.view!.lastSeq = 42;
    const starting = fakePanel();
    starting.status = 'starting';
    requests.rewatch([shown, starting, fakePanel()]);
    expect(transport.watch).toHaveBeenCalledWith('run_1', 42);
    expect(transport.watch).toHaveBeenCalledTimes(1);
    expect(ctx.requeue).toHaveBeenCalledWith(starting);
    expect(starting.status).toBe('idle');
  });

  it('marks the panel busy while a cancel or resume is in flight, and reports a failure', async () => {
    const { requests, ctx, transport, runs } = setup();
    const panel = fakePanel();
    runs.attach(panel, 'run_1');
    panel.view!.lastSeq = 7;
    const cancel = requests.cancel(panel);
    expect(panel.busy).toBe(true);
    await cancel;
    expect(panel.busy).toBe(false);
    expect(transport.cancel).toHaveBeenCalledWith('run_1');

    transport.resume.mockImplementationOnce(() => Promise.reject(new ClientError('run_not_resumable', 'no')));
    panel.notify = false;
    await requests.resume(panel);
    expect(transport.resume).toHaveBeenCalledWith('run_1', 7);
    expect(panel.notify).toBe(true);
    expect(ctx.failed).toHaveBeenCalledWith(panel, 'resume', expect.any(ClientError));
    expect(panel.busy).toBe(false);
  });
});
