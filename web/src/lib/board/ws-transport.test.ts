import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocketCtor } from '@app/shared/client';
import { WsTransport } from './ws-transport';

const hello = JSON.stringify({
  type: 'hello',
  protocol: 2,
  model: 'builtin-rules-v1 (built-in)',
  limits: { maxMessageBytes: 65536, maxRunsPerSocket: 8, heartbeatMs: 30000 },
});

/** A socket with DOM-style handlers, driven by the test: what the server (or a proxy) does to it. */
class FakeSocket extends EventTarget {
  static all: FakeSocket[] = [];
  /** What each new socket does at once: open and say hello, open and say nothing, or fail. */
  static next: 'hello' | 'silent' | 'fail' = 'hello';
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    super();
    FakeSocket.all.push(this);
    const how = FakeSocket.next;
    queueMicrotask(() => (how === 'fail' ? this.drop() : this.open(how === 'hello')));
  }
  open(sayHello: boolean): void {
    this.readyState = 1;
    this.onopen?.({});
    if (sayHello) {
      const ev = new MessageEvent('message', { data: hello });
      this.dispatchEvent(ev);
      this.onmessage?.(ev);
    }
  }
  drop(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '', wasClean: false });
  }
  send(): void {}
  close(): void {
    this.drop();
  }
}

function transport() {
  const blocked = vi.fn();
  const t = new WsTransport({
    WebSocket: FakeSocket as unknown as WebSocketCtor,
    on: { frame: () => {}, reset: () => {}, state: () => {}, limits: () => {} },
    blocked,
    // The page's origin answers plain HTTP all along (other instances behind the proxy).
    httpUp: () => Promise.resolve(true),
  });
  return { t, blocked };
}

describe('WsTransport', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('location', { protocol: 'http:', host: 'board.test' });
    FakeSocket.all = [];
    FakeSocket.next = 'hello';
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('does not take a server that said hello and died for a proxy blocking WebSocket, while it reconnects', async () => {
    const { t, blocked } = transport();
    await vi.advanceTimersByTimeAsync(1000);
    // The instance behind the socket is killed a second after the page loaded; the next tries fail for a while.
    FakeSocket.next = 'fail';
    FakeSocket.all[0]!.drop();
    await vi.advanceTimersByTimeAsync(9000);
    expect(FakeSocket.all.length).toBeGreaterThan(2);
    expect(blocked).not.toHaveBeenCalled();
    FakeSocket.next = 'hello';
    await vi.advanceTimersByTimeAsync(6000);
    expect(t.client.state).toBe('connected');
    expect(blocked).not.toHaveBeenCalled();
    t.close();
  });

  it('falls back when sockets open and are cut before the server says anything (a proxy refusing WebSocket)', async () => {
    FakeSocket.next = 'silent';
    const { t, blocked } = transport();
    for (let i = 0; i < 20 && blocked.mock.calls.length === 0; i++) {
      await vi.advanceTimersByTimeAsync(500);
      for (const s of FakeSocket.all) if (s.readyState === 1) s.drop();
    }
    expect(blocked).toHaveBeenCalled();
    t.close();
  });
});
