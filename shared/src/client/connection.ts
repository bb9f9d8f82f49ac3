import { fullJitterDelay, type BackoffOptions } from './backoff.js';
import { Listeners } from './listeners.js';
import { abandonSocket, decode, errorText, OPEN } from './socket-util.js';
import type { ConnectionState, NetworkStatus, StateChange, WebSocketCtor, WebSocketLike } from './types.js';

/** Settings of a {@link Connection}. */
export interface ConnectionOptions {
  url: string;
  WebSocket: WebSocketCtor;
  backoff?: BackoffOptions;
  random?: () => number;
  /** How often to send an application-level ping while connected. */
  pingIntervalMs: number;
  /** How long to wait for a connection to open, or for any message after a ping. */
  deadlineMs: number;
  network: NetworkStatus | null;
}

/** What a {@link Connection} reports to its owner. */
export interface ConnectionHandlers {
  /** A socket (first or a replacement) is open. */
  opened(): void;
  message(text: string): void;
  /** An open socket went away; a replacement is on its way unless the connection is closed. */
  lost(): void;
}

/**
 * One logical connection over a series of sockets: opens a socket, replaces it with full-jitter backoff
 * when it drops (one attempt in flight at a time), waits while the network is offline, and pings so a
 * dead connection is noticed even where ws-level pings are invisible (browsers).
 */
export class Connection {
  state: ConnectionState = 'connecting';
  readonly states = new Listeners<StateChange>();
  private ws: WebSocketLike | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private deadline: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private lastError: string | undefined;
  private readonly stopNetwork: () => void;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly on: ConnectionHandlers,
  ) {
    this.stopNetwork = opts.network?.subscribe((online) => this.networkChanged(online)) ?? (() => {});
    if (opts.network && !opts.network.onLine()) this.setState('offline');
    else this.open();
  }

  /** Sends on the open socket; false when there is none (the caller queues). */
  send(text: string): boolean {
    if (this.state !== 'connected' || !this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(text);
    return true;
  }

  /** The server answered on this socket: the next failure starts the backoff afresh. */
  healthy(): void {
    this.attempt = 0;
  }

  /** Abandons the current socket (e.g. a request went unanswered) and connects again. */
  reconnect(reason: string): void {
    if (this.ws) this.drop(reason);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.stopNetwork();
    this.clearTimers();
    abandonSocket(this.ws, true);
    this.ws = null;
    this.setState('closed');
  }

  private open(): void {
    this.retryTimer = null;
    this.lastError = undefined;
    let ws: WebSocketLike;
    try {
      ws = new this.opts.WebSocket(this.opts.url);
    } catch (err) {
      return this.retry(errorText(err) ?? 'cannot create WebSocket');
    }
    this.ws = ws;
    this.arm('connection did not open in time');
    ws.onopen = () => {
      this.disarm();
      this.setState('connected');
      this.pinger = setInterval(() => this.ping(), this.opts.pingIntervalMs);
      this.on.opened();
    };
    ws.onmessage = (ev) => {
      this.disarm(); // any message proves the connection alive
      this.on.message(decode(ev.data));
    };
    ws.onerror = (ev) => {
      this.lastError = errorText(ev) ?? this.lastError;
    };
    ws.onclose = (ev) =>
      this.drop(this.lastError ?? `closed with code ${ev.code}${ev.reason ? ` (${ev.reason})` : ''}`);
  }

  private ping(): void {
    if (this.deadline) return;
    if (this.send(JSON.stringify({ type: 'ping', requestId: 'ping' }))) this.arm('no pong from the server');
  }

  private drop(reason: string): void {
    const wasOpen = this.state === 'connected';
    this.clearTimers();
    abandonSocket(this.ws, false);
    this.ws = null;
    if (wasOpen) this.on.lost();
    this.retry(reason);
  }

  private retry(reason: string): void {
    if (this.state === 'closed') return;
    if (this.opts.network && !this.opts.network.onLine()) return this.setState('offline', reason);
    this.setState('reconnecting', reason);
    const delay = fullJitterDelay(this.attempt++, this.opts.backoff, this.opts.random);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private networkChanged(online: boolean): void {
    if (online && this.state === 'offline') {
      this.attempt = 0;
      this.setState('reconnecting');
      this.open();
    } else if (!online && this.state === 'reconnecting' && this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.setState('offline');
    }
  }

  private arm(reason: string): void {
    this.disarm();
    this.deadline = setTimeout(() => this.drop(reason), this.opts.deadlineMs);
  }

  private disarm(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
  }

  private clearTimers(): void {
    this.disarm();
    if (this.pinger) clearInterval(this.pinger);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pinger = this.retryTimer = null;
  }

  private setState(newState: ConnectionState, reason?: string): void {
    const oldState = this.state;
    if (oldState === newState) return;
    this.state = newState;
    this.states.emit(reason === undefined ? { newState, oldState } : { newState, oldState, reason });
  }
}
