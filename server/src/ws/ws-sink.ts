import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { encodeOnce } from '../runs/encode-once.js';
import type { FrameSink } from '../runs/subscription.js';

/**
 * One unmasked, final text frame (RFC 6455 §5.2) holding `json`. `ws` frames per send; framing here
 * lets the frame a run just emitted be framed once and written as-is to every socket watching it.
 */
export function wsTextFrame(json: string): Buffer {
  const size = Buffer.byteLength(json);
  const head = size < 126 ? 2 : size < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + size);
  out[0] = 0x81; // FIN + text
  if (head === 2) out[1] = size;
  else if (head === 4) {
    out[1] = 126;
    out.writeUInt16BE(size, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(size), 2);
  }
  out.write(json, head, 'utf8');
  return out;
}

const framed = encodeOnce(wsTextFrame);

/**
 * A socket as a frame sink. Frames go straight to the TCP socket as pre-built WebSocket frames (no
 * compression is negotiated, so `ws` never holds frames of its own back and writes stay in order).
 * Above the high-water mark it reports congestion; the write callbacks then tell when the socket has
 * drained below half of it, and waiting subscriptions resume from the log.
 */
export class WsSink implements FrameSink {
  private waiters: (() => void)[] = [];
  private readonly lowWater: number;
  private readonly afterSend = (): void => {
    if (this.waiters.length > 0 && this.ws.bufferedAmount <= this.lowWater) this.wake();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly highWater: number,
    /** PROTOCOL_CHECK: sees every message before it is sent. */
    private readonly check: ((json: string) => void) | null = null,
  ) {
    this.lowWater = Math.floor(highWater / 2);
  }

  send(json: string, seq = 0): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.check?.(json);
    this.socket.write(framed(json, seq), this.afterSend);
  }

  /** Replies and errors share the socket with frames, and its drain signal. */
  sendControl(msg: object): void {
    this.send(JSON.stringify(msg));
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  congested(): boolean {
    return this.ws.bufferedAmount > this.highWater;
  }

  onDrain(cb: () => void): void {
    this.waiters.push(cb);
    // Nothing in flight means no callback will come: wake on the next turn instead.
    if (this.ws.bufferedAmount <= this.lowWater) setImmediate(this.afterSend);
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const cb of ws) cb();
  }
}
