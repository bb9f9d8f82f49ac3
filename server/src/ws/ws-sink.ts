import type { WebSocket } from 'ws';
import type { FrameSink } from '../runs/subscription.js';

/**
 * A socket as a frame sink. Above the high-water mark it reports congestion; the send callbacks then
 * tell when the socket has drained below half of it, and waiting subscriptions resume from the log.
 */
export class WsSink implements FrameSink {
  private waiters: (() => void)[] = [];
  private readonly lowWater: number;
  private readonly afterSend = (): void => {
    if (this.waiters.length > 0 && this.ws.bufferedAmount <= this.lowWater) this.wake();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly highWater: number,
  ) {
    this.lowWater = Math.floor(highWater / 2);
  }

  send(json: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(json, this.afterSend);
  }

  /** Replies and errors share the socket with frames, and its drain signal. */
  sendControl(msg: object): void {
    this.send(JSON.stringify(msg));
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
