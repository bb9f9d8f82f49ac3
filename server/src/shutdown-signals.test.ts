import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onShutdownSignals, SAME_REQUEST_MS } from './shutdown-signals.js';

function setup() {
  const target = new EventEmitter();
  let clock = 0;
  const calls: string[] = [];
  const off = onShutdownSignals(
    {
      shutdown: (s) => calls.push(`shutdown ${s}`),
      again: (s) => calls.push(`again ${s}`),
      force: (s) => calls.push(`force ${s}`),
    },
    target,
    () => clock,
  );
  const signal = (s: NodeJS.Signals, at: number) => {
    clock = at;
    target.emit(s, s);
  };
  return { target, calls, signal, off };
}

describe('shutdown signals', () => {
  it('counts a signal relayed by a wrapper within SAME_REQUEST_MS as one request', () => {
    const { calls, signal } = setup();
    signal('SIGTERM', 0);
    signal('SIGTERM', 5);
    signal('SIGTERM', SAME_REQUEST_MS - 1);
    expect(calls).toEqual(['shutdown SIGTERM']);
  });

  it('Ctrl-C twice (each relayed once) goes on shutting down; a third time forces', () => {
    const { calls, signal } = setup();
    for (const at of [0, 600, 1200]) {
      signal('SIGINT', at);
      signal('SIGINT', at + 4);
    }
    expect(calls).toEqual(['shutdown SIGINT', 'again SIGINT', 'force SIGINT']);
  });

  it('counts SIGINT and SIGTERM together', () => {
    const { calls, signal } = setup();
    signal('SIGTERM', 0);
    signal('SIGINT', 1000);
    signal('SIGTERM', 2000);
    expect(calls).toEqual(['shutdown SIGTERM', 'again SIGINT', 'force SIGTERM']);
  });

  it('keeps listening between requests, so no delivery falls back to the default action', () => {
    const { target, signal, off } = setup();
    signal('SIGTERM', 0);
    expect(target.listenerCount('SIGTERM')).toBe(1);
    expect(target.listenerCount('SIGINT')).toBe(1);
    off();
    expect(target.listenerCount('SIGTERM')).toBe(0);
  });
});
