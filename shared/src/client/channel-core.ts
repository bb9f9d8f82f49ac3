import type { RunFrame } from '../frames.js';
import {
  isRunFrame,
  SERVER_MESSAGE_TYPES,
  serverMessageSchema,
  type AckMessage,
  type ClientMessage,
  type HelloMessage,
  type RequestErrorMessage,
} from '../ws-protocol.js';
import type { BackoffOptions } from './backoff.js';
import { Connection } from './connection.js';
import { Listeners } from './listeners.js';
import { browserNetwork } from './network.js';
import { parseMessage, warnInvalid, type InvalidMessage } from './parse-message.js';
import { RequestTable } from './request-table.js';
import {
  ClientError,
  type ConnectionState,
  type NetworkStatus,
  type StateChange,
  type WebSocketCtor,
} from './types.js';

/** Settings of a {@link StreamClient}. */
export interface StreamClientOptions {
  /** e.g. `ws://127.0.0.1:8000/api/v1/ws` */
  url: string;
  /** The platform's WebSocket (browsers) or `ws`'s (Node 20 has none). */
  WebSocket: WebSocketCtor;
  backoff?: BackoffOptions;
  /** Deadline of each request, including time spent waiting for a connection. Default 10 s. */
  requestTimeoutMs?: number;
  random?: () => number;
  /** Application-level ping period while connected. Default 20 s. */
  pingIntervalMs?: number;
  /** Deadline for a pong (any message) after a ping, and for a socket to open. Default 10 s. */
  pongTimeoutMs?: number;
  /** Online/offline source; default the browser's `navigator.onLine` when present, else none. */
  network?: NetworkStatus | null;
}

/** Called when a request ends, synchronously, before later messages are handled. */
export type Settled = (ack: AckMessage | null, err: ClientError | null, reply?: RequestErrorMessage) => void;

/**
 * The request/reply half of the client: one logical connection, requests matched to replies by
 * requestId, and the server's greeting. Run frames are handed to {@link ChannelCore.deliver}.
 */
export abstract class ChannelCore {
  /** The server's greeting on the current connection. */
  hello: HelloMessage | null = null;
  protected readonly conn: Connection;
  protected readonly requestErrors = new Listeners<RequestErrorMessage>();
  private readonly invalid = new Listeners<InvalidMessage>();
  private readonly table: RequestTable;

  constructor(opts: StreamClientOptions) {
    this.table = new RequestTable(opts.requestTimeoutMs ?? 10_000, (text) => this.conn.send(text));
    this.conn = new Connection(
      {
        url: opts.url,
        WebSocket: opts.WebSocket,
        backoff: opts.backoff,
        random: opts.random,
        pingIntervalMs: opts.pingIntervalMs ?? 20_000,
        deadlineMs: opts.pongTimeoutMs ?? 10_000,
        network: opts.network === undefined ? browserNetwork() : opts.network,
      },
      {
        opened: () => {
          this.opened();
          this.table.flush();
        },
        message: (t) => this.message(t),
        lost: () => this.table.socketLost(),
      },
    );
  }

  get state(): ConnectionState {
    return this.conn.state;
  }

  /** Connection state changes; returns the unsubscribe function. */
  onState(cb: (e: StateChange) => void): () => void {
    return this.conn.states.add(cb);
  }

  /** Request errors no caller's promise receives (unmatched replies, automatic re-subscribes). */
  onRequestError(cb: (e: RequestErrorMessage) => void): () => void {
    return this.requestErrors.add(cb);
  }

  /**
   * Messages the client ignored: not JSON, of an unknown type, or not matching their schema (e.g. a
   * server speaking a newer protocol). Without a listener they go to `console.warn`.
   */
  onInvalidMessage(cb: (m: InvalidMessage) => void): () => void {
    return this.invalid.add(cb);
  }

  /** Closes for good: pending requests fail with `closed`, nothing reconnects. */
  close(): void {
    this.conn.close();
    this.table.failAll(new ClientError('closed', 'The client was closed.'));
  }

  /** A socket opened: queue what it must send before the waiting requests go out. */
  protected abstract opened(): void;

  protected abstract deliver(f: RunFrame): void;

  /** Sends a request (now, or when connected); `resend` marks it safe to repeat on a new socket. */
  protected request(
    build: (requestId: string) => ClientMessage,
    resend: boolean,
    settled?: Settled,
  ): Promise<AckMessage> {
    return new Promise((resolve, reject) => {
      if (this.conn.state === 'closed') return reject(new ClientError('closed', 'The client was closed.'));
      this.table.add({
        build,
        resend,
        settle: (ack, err, reply) => {
          settled?.(ack, err, reply);
          if (ack) resolve(ack);
          else reject(err ?? new ClientError('internal', 'Request failed.'));
        },
      });
    });
  }

  private message(text: string): void {
    const parsed = parseMessage(text, serverMessageSchema, SERVER_MESSAGE_TYPES);
    if (!parsed.ok) {
      if (this.invalid.size > 0) this.invalid.emit(parsed.invalid);
      else warnInvalid('StreamClient', parsed.invalid);
      return;
    }
    const msg = parsed.msg;
    if (isRunFrame(msg)) return this.deliver(msg);
    switch (msg.type) {
      case 'hello':
        this.hello = msg;
        this.conn.healthy();
        return;
      case 'pong':
        return;
      case 'ack':
        this.table.answer(msg.requestId, msg);
        return;
      case 'request_error':
        if (!this.table.answer(msg.requestId, null, msg)) this.requestErrors.emit(msg);
        return;
      default: {
        const _: never = msg;
        return _;
      }
    }
  }
}
