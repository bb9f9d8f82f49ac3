import { describe, expect, it, vi } from 'vitest';
import type { WebSocketCtor } from '@app/shared/client';
import { hearingHello, parseHello } from './hello-listener';

const hello = {
  type: 'hello',
  protocol: 2,
  model: 'builtin-rules-v1 (built-in)',
  limits: { maxMessageBytes: 65536, maxRunsPerSocket: 2, heartbeatMs: 30000 },
};

/** A socket with DOM-style listeners, driven by the test. */
class FakeSocket extends EventTarget {
  static last: FakeSocket | null = null;
  readyState = 0;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onopen = null;
  onclose = null;
  onerror = null;
  constructor(readonly url: string) {
    super();
    FakeSocket.last = this;
  }
  send(): void {}
  close(): void {}
  receive(data: string): void {
    const ev = new MessageEvent('message', { data });
    this.dispatchEvent(ev);
    this.onmessage?.(ev);
  }
}

describe('hello listener', () => {
  it("reports each socket's hello once, beside the client's own handler", () => {
    const heard = vi.fn();
    const WS = hearingHello(FakeSocket as unknown as WebSocketCtor, heard);
    const ws = new WS('ws://x/api/v1/ws');
    expect(ws).toBe(FakeSocket.last);
    const own = vi.fn();
    ws.onmessage = own;
    FakeSocket.last!.receive(JSON.stringify(hello));
    FakeSocket.last!.receive(JSON.stringify({ ...hello, limits: { ...hello.limits, maxRunsPerSocket: 9 } }));
    expect(heard).toHaveBeenCalledTimes(1);
    expect(heard.mock.calls[0]![0].limits.maxRunsPerSocket).toBe(2);
    expect(own).toHaveBeenCalledTimes(2);
  });

  it('reads only a valid hello', () => {
    expect(parseHello(JSON.stringify(hello))?.limits.maxRunsPerSocket).toBe(2);
    expect(parseHello(JSON.stringify({ ...hello, limits: { maxRunsPerSocket: 'eight' } }))).toBeNull();
    expect(parseHello('{"type":"hello"')).toBeNull();
    expect(parseHello(JSON.stringify({ type: 'pong' }))).toBeNull();
    expect(parseHello(new ArrayBuffer(4))).toBeNull();
  });
});
