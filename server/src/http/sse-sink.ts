import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { encodeOnce } from '../runs/encode-once.js';
import type { FrameSink } from '../runs/subscription.js';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  // nginx: pass each frame on at once instead of buffering the response.
  'X-Accel-Buffering': 'no',
} as const;

/** `text` as one chunk of a chunked HTTP/1.1 body (RFC 9112 §7.1). */
export function httpChunk(text: string): Buffer {
  const size = Buffer.byteLength(text);
  const head = `${size.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(head.length + size + 2);
  out.write(head, 0, 'latin1');
  out.write(text, head.length, 'utf8');
  out.write('\r\n', head.length + size, 'latin1');
  return out;
}

const eventChunk = encodeOnce((json, seq) => httpChunk(`id: ${seq}\ndata: ${json}\n\n`));

/**
 * Writes frames straight to the Node response (no web-stream layers on the hot path). Once the
 * headers are out and the body is chunked, each event goes to the socket as a pre-built chunk shared
 * by every watcher, one write each; `end()` still closes the body through the response.
 * `id:` is the frame's seq; the JSON never holds a raw newline, so one `data:` line is always enough.
 */
export class SseSink implements FrameSink {
  private heartbeat: NodeJS.Timeout | undefined;
  /** The socket, when body bytes may bypass the response's own chunking. */
  private raw: Socket | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly heartbeatMs: number,
    /** PROTOCOL_CHECK: sees every frame before it is sent. */
    private readonly check: ((json: string) => void) | null = null,
  ) {}

  /** Sends the headers; called once the request is known to be valid, so errors can still be JSON. */
  open(): void {
    const { res, heartbeatMs } = this;
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    const socket = res.socket;
    // Only when nothing is queued in the response itself, so bytes stay in order.
    if (res.chunkedEncoding && socket && res.writableLength === socket.writableLength) this.raw = socket;
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.write(': ping\n\n'), heartbeatMs);
      this.heartbeat.unref();
    }
    res.once('close', () => clearInterval(this.heartbeat));
  }

  send(json: string, seq: number): void {
    this.check?.(json);
    if (this.raw) {
      if (this.raw.writable) this.raw.write(eventChunk(json, seq));
    } else this.res.write(`id: ${seq}\ndata: ${json}\n\n`);
  }

  private write(text: string): void {
    if (!this.raw) this.res.write(text);
    else if (this.raw.writable) this.raw.write(httpChunk(text));
  }

  cork(): void {
    (this.raw ?? this.res).cork();
  }

  uncork(): void {
    (this.raw ?? this.res).uncork();
  }

  congested(): boolean {
    return (this.raw ?? this.res).writableNeedDrain;
  }

  onDrain(cb: () => void): void {
    (this.raw ?? this.res).once('drain', cb);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
  }
}
