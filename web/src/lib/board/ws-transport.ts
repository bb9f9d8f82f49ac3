import type { RunStatus } from '@app/shared';
import { StreamClient, type ConnectionState, type WebSocketCtor } from '@app/shared/client';
import { hearingHello } from './hello-listener';
import { STABLE_MS } from './probe-websocket';
import { wsUrl, type Transport, type TransportHandlers } from './transport';

/** How often, while WebSocket is not (stably) up, the page checks whether plain HTTP works. */
const PROBE_EVERY_MS = 2000;
/** HTTP up but no WebSocket for this long means WebSocket is blocked: fall back to SSE. */
const BLOCKED_AFTER_MS = 4000;
/** Once WebSocket has worked on this page, wait longer (a restarting server's reconnect backoff). */
const BLOCKED_AFTER_WORKED_MS = 20_000;

/** Settings of a {@link WsTransport}. */
export interface WsTransportOptions {
  WebSocket: WebSocketCtor;
  on: TransportHandlers;
  /** Called once WebSocket looks blocked while HTTP works: switch to SSE. */
  blocked(): void;
  /** Whether the server answers plain HTTP now. */
  httpUp(): Promise<boolean>;
}

/** The shared client's WebSocket, watching for signs that WebSocket is blocked on the way. */
export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  readonly client: StreamClient;
  private closed = false;
  private stable = false;
  private worked = false;
  private httpUpSince: number | null = null;
  private stableTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly prober: ReturnType<typeof setInterval>;
  private readonly offs: (() => void)[] = [];

  constructor(private readonly opts: WsTransportOptions) {
    const { on } = opts;
    const WebSocket = hearingHello(opts.WebSocket, (h) => {
      // The server spoke over WebSocket: nothing on the way blocks it, whatever cuts this socket later
      // (an instance killed just after the page loaded), so reconnects get the longer wait.
      this.worked = true;
      if (!this.closed) on.limits(h.limits);
    });
    this.client = new StreamClient({ url: wsUrl(), WebSocket, backoff: { baseMs: 250, maxMs: 5000 } });
    this.offs.push(
      this.client.onFrame(on.frame),
      this.client.onReset(on.reset),
      this.client.onState((e) => {
        on.state(e.newState);
        this.track(e.newState);
      }),
    );
    on.state(this.client.state);
    this.prober = setInterval(() => void this.probe(), PROBE_EVERY_MS);
  }

  start(userId: string, key?: string): Promise<string> {
    return this.client.start(userId, key);
  }

  async watch(runId: string, after: number): Promise<RunStatus | null> {
    const info = await this.client.watch(runId, after);
    return info.status;
  }

  unwatch(runId: string): void {
    this.client.unwatch(runId).catch(() => {});
  }

  cancel(runId: string): Promise<void> {
    return this.client.cancel(runId);
  }

  resume(runId: string): Promise<void> {
    return this.client.resume(runId);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.prober);
    if (this.stableTimer) clearTimeout(this.stableTimer);
    for (const off of this.offs) off();
    this.client.close();
  }

  /** A socket that opens and is cut at once (a proxy refusing WebSocket) does not count as working. */
  private track(state: ConnectionState): void {
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.stableTimer = null;
    if (state === 'connected') {
      this.stableTimer = setTimeout(() => {
        this.stable = this.worked = true;
        this.httpUpSince = null;
      }, STABLE_MS);
    } else {
      this.stable = false;
    }
  }

  /** While WebSocket is down: is the server reachable over HTTP? Then WebSocket is what is blocked. */
  private async probe(): Promise<void> {
    const state = this.client.state;
    if (this.stable || state === 'closed' || state === 'offline') {
      this.httpUpSince = null;
      return;
    }
    if (!(await this.opts.httpUp()) || this.closed) {
      this.httpUpSince = null;
      return;
    }
    this.httpUpSince ??= Date.now();
    const limit = this.worked ? BLOCKED_AFTER_WORKED_MS : BLOCKED_AFTER_MS;
    if (!this.stable && Date.now() - this.httpUpSince >= limit) this.opts.blocked();
  }
}
