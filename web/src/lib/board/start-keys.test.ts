import { describe, expect, it, vi } from 'vitest';
import { ClientError } from '@app/shared/client';
import { answeredByServer, newStartKey, StartKeys, type StartingPanel } from './start-keys';
import type { Transport } from './transport';

type P = StartingPanel & { runId: string | null; status: string };

/** A transport whose starts the test answers by hand. */
function fakeTransport() {
  const calls: { key: string | undefined; settle: (r: string | Error) => void }[] = [];
  const t = {
    kind: 'ws',
    start: vi.fn(
      (_userId: string, key?: string) =>
        new Promise<string>((ok, fail) =>
          calls.push({ key, settle: (r) => (typeof r === 'string' ? ok(r) : fail(r)) }),
        ),
    ),
    unwatch: vi.fn(),
  } as unknown as Transport & { unwatch: ReturnType<typeof vi.fn> };
  return { t, calls };
}

function setup() {
  const { t, calls } = fakeTransport();
  let current: Transport = t;
  const started = vi.fn((p: P, runId: string) => (p.runId = runId));
  const failed = vi.fn();
  const onBoard = vi.fn(() => true);
  const keys = new StartKeys<P>({ onBoard, transport: () => current, started, failed });
  const panel: P = { userId: 'user_0001', runId: null, status: 'starting', startKey: null };
  return { keys, t, calls, panel, started, failed, onBoard, replace: (n: Transport) => (current = n) };
}

describe('start keys', () => {
  it('makes 32 hex digit keys, a new one each time', () => {
    const a = newStartKey();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newStartKey()).not.toBe(a);
  });

  it('tells a refusal by the server from a start lost on the way', () => {
    expect(answeredByServer(new ClientError('user_not_found', 'no'))).toBe(true);
    expect(answeredByServer(new ClientError('too_many_runs', 'later', true))).toBe(false);
    for (const code of ['timeout', 'disconnected', 'closed'] as const)
      expect(answeredByServer(new ClientError(code, 'lost'))).toBe(false);
    expect(answeredByServer(new Error('other'))).toBe(false);
  });

  it('keeps the key of an unanswered start for its retry, and drops it once the run is known', async () => {
    const { keys, t, calls, panel, started, failed } = setup();
    const first = keys.start(panel, t);
    const key = panel.startKey;
    calls[0]!.settle(new ClientError('timeout', 'no answer'));
    await first;
    expect(failed).toHaveBeenCalledTimes(1);
    expect(panel.startKey).toBe(key);

    const retry = keys.start(panel, t);
    expect(calls[1]!.key).toBe(key);
    calls[1]!.settle('run_1');
    await retry;
    expect(started).toHaveBeenCalledWith(panel, 'run_1');
    expect(panel.startKey).toBeNull();
  });

  it('drops the key of a start the server refused', async () => {
    const { keys, t, calls, panel, failed } = setup();
    const p = keys.start(panel, t);
    calls[0]!.settle(new ClientError('user_not_found', 'no such user'));
    await p;
    expect(failed).toHaveBeenCalledTimes(1);
    expect(panel.startKey).toBeNull();
  });

  it('lets go of a run whose answer came after the panel moved on', async () => {
    const { keys, t, calls, panel, started } = setup();
    const p = keys.start(panel, t);
    panel.status = 'idle';
    calls[0]!.settle('run_late');
    await p;
    expect(started).not.toHaveBeenCalled();
    expect(t.unwatch).toHaveBeenCalledWith('run_late');
    expect(panel.startKey).toBeNull();
  });

  it('ignores the failure of a start whose transport was replaced (it was queued again)', async () => {
    const { keys, t, calls, panel, failed, replace } = setup();
    const p = keys.start(panel, t);
    const key = panel.startKey;
    replace(fakeTransport().t);
    calls[0]!.settle(new ClientError('closed', 'closed'));
    await p;
    expect(failed).not.toHaveBeenCalled();
    expect(panel.startKey).toBe(key);
  });
});
