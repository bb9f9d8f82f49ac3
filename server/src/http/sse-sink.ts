import type { ServerResponse } from 'node:http';
import type { FrameSink } from '../runs/subscription.js';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  // nginx: pass each frame on at once instead of buffering the response.
  'X-Accel-Buffering': 'no',
} as const;

/**
 * Writes frames straight to the Node response (no web-stream layers on the hot path).
 * `id:` is the frame's seq; the JSON never holds a raw newline, so one `data:` line is always enough.
 */
export class SseSink implements FrameSink {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly heartbeatMs: number,
  ) {}

  /** Sends the headers; called once the request is known to be valid, so errors can still be JSON. */
  open(): void {
    const { res, heartbeatMs } = this;
    res.writeHead(200, SSE_HEADERS);
    if (typeof res.flushHeaders === 'function') res.flushHeaders();
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
      this.heartbeat.unref();
    }
    res.once('close', () => clearInterval(this.heartbeat));
  }

  send(json: string, seq: number): void {
    this.res.write(`id: ${seq}\ndata: ${json}\n\n`);
  }

  cork(): void {
    this.res.cork();
  }

  uncork(): void {
    this.res.uncork();
  }

  congested(): boolean {
    return this.res.writableNeedDrain;
  }

  onDrain(cb: () => void): void {
    this.res.once('drain', cb);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
  }
}
