import type { ErrorCode } from '../errors.js';

/** A handler slot; the method form makes it bivariant so `ws` and DOM sockets both fit. */
type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

/** The part of a WebSocket the client uses: the DOM WebSocket and the `ws` package both satisfy it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

/** A WebSocket constructor, injected so the client runs in browsers and in Node 20 (`ws`). */
export type WebSocketCtor = new (url: string) => WebSocketLike;

/** Where the client's connection stands. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

/** Payload of a state change; `reason` says why a connection failed or dropped, when known. */
export interface StateChange {
  newState: ConnectionState;
  oldState: ConnectionState;
  reason?: string;
}

/** Codes of failures the client itself produces, beside the server's error codes. */
export type ClientErrorCode = ErrorCode | 'timeout' | 'disconnected' | 'closed';

/** A request that failed: an error reply from the server, a timeout, or a lost connection. */
export class ClientError extends Error {
  override readonly name = 'ClientError';

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly retryable = false,
    readonly runId?: string,
  ) {
    super(message);
  }
}

/** Network status source; defaults to `navigator.onLine` and window `online`/`offline` events when present. */
export interface NetworkStatus {
  onLine(): boolean;
  /** Calls `cb` on every change; returns the unsubscribe function. */
  subscribe(cb: (online: boolean) => void): () => void;
}
