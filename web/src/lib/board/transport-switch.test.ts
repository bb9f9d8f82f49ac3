import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocketCtor } from '@app/shared/client';
import { TransportSwitch, type LinkChange, type SwitchOptions } from './transport-switch';
import type { Transport } from './transport';
import { REPROBE_BACKOFF } from './ws-reprobe';

const FakeWebSocket = class {} as unknown as WebSocketCtor;

/** Transports that only record their life; `log` shows the order of opens and closes. */
function setup(over: Partial<SwitchOptions> = {}) {
  const log: string[] = [];
  const blockers: (() => void)[] = [];
  let n = 0;
  const make = (kind: Transport['kind']): Transport => {
    const name = `${kind}${++n}`;
    log.push(`open ${name}`);
    return { kind, close: () => log.push(`close ${name}`) } as unknown as Transport;
  };
  let works = false;
  const link = new TransportSwitch({
    WebSocket: () => FakeWebSocket,
    ws: (_WS, blocked) => {
      blockers.push(blocked);
      return make('ws');
    },
    sse: () => make('sse'),
    probe: () => Promise.resolve(works),
    busy: () => false,
    random: () => 0.9999,
    ...over,
  });
  const changes: string[] = [];
  link.onChange((c: LinkChange) => changes.push(`${c.oldState.name} → ${c.newState.name}`));
  return { link, log, changes, blockers, setWorks: (w: boolean) => (works = w) };
}

describe('TransportSwitch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('opens WebSocket, falls back to SSE when it is blocked, and takes it back once a probe finds it working', async () => {
    const { link, log, changes, blockers, setWorks } = setup();
    link.open();
    expect(link.state.name).toBe('websocket');
    blockers[0]!();
    expect(link.state.name).toBe('sse-fallback');
    expect(link.transport?.kind).toBe('sse');
    // The old transport is closed before the new one opens.
    expect(log).toEqual(['open ws1', 'close ws1', 'open sse2']);

    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.baseMs);
    expect(link.state.name).toBe('sse-fallback');
    setWorks(true);
    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.baseMs * 2);
    expect(link.state.name).toBe('websocket');
    expect(changes).toEqual(['closed → websocket', 'websocket → sse-fallback', 'sse-fallback → websocket']);
    expect(log.slice(3)).toEqual(['close sse2', 'open ws3']);

    // A report from a transport no longer in use changes nothing.
    blockers[0]!();
    expect(link.state.name).toBe('websocket');
    link.close();
    expect(link.state.name).toBe('closed');
    expect(link.transport).toBeNull();
  });

  it('uses SSE for good in a browser without WebSocket, and never probes', async () => {
    const probe = vi.fn(() => Promise.resolve(true));
    const { link, changes } = setup({ WebSocket: () => undefined, probe });
    link.open();
    link.open();
    expect(link.state.name).toBe('sse-only');
    link.fallBack();
    link.takeBack();
    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.maxMs);
    expect(probe).not.toHaveBeenCalled();
    expect(changes).toEqual(['closed → sse-only']);
  });

  it('stops probing once closed', async () => {
    const probe = vi.fn(() => Promise.resolve(true));
    const { link, blockers } = setup({ probe });
    link.open();
    blockers[0]!();
    link.close();
    await vi.advanceTimersByTimeAsync(REPROBE_BACKOFF.maxMs);
    expect(probe).not.toHaveBeenCalled();
    expect(link.state.name).toBe('closed');
  });
});
