import type { AckMessage, ClientMessage, RequestErrorMessage } from '../ws-protocol.js';
import { ClientError } from './types.js';

/** One request: how to encode it, whether it may be repeated, and who hears the outcome. */
export interface RequestSpec {
  /** Encodes the message at send time (so a resent subscribe carries the current cursor); no side effects. */
  build(requestId: string): ClientMessage;
  /** Safe to send again on a new socket when the first one may have been lost with its reply. */
  resend: boolean;
  /** Called exactly once: with the ack, or with the error (and the server's reply, if it sent one). */
  settle(ack: AckMessage | null, error: ClientError | null, reply?: RequestErrorMessage): void;
}

interface Entry {
  spec: RequestSpec;
  sent: boolean;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests waiting for their reply, matched by requestId. Each has a deadline that also bounds the
 * time it waits for a connection; unsent ones go out, in order, when a socket opens.
 */
export class RequestTable {
  private readonly entries = new Map<string, Entry>();
  private counter = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly send: (text: string) => boolean,
  ) {}

  add(spec: RequestSpec): void {
    const id = `r${++this.counter}`;
    const timer = setTimeout(() => {
      const what = spec.build(id).type;
      this.finish(
        id,
        null,
        new ClientError('timeout', `No answer to ${what} within ${this.timeoutMs} ms.`, true),
      );
    }, this.timeoutMs);
    const entry: Entry = { spec, sent: false, timer };
    this.entries.set(id, entry);
    this.transmit(id, entry);
  }

  /** Sends everything not yet sent on the current socket. */
  flush(): void {
    for (const [id, e] of this.entries) this.transmit(id, e);
  }

  /** Routes a reply; false when no request has this id. */
  answer(requestId: string | undefined, ack: AckMessage | null, reply?: RequestErrorMessage): boolean {
    if (requestId === undefined || !this.entries.has(requestId)) return false;
    const err = reply ? new ClientError(reply.code, reply.message, reply.retryable, reply.runId) : null;
    this.finish(requestId, ack, err, reply);
    return true;
  }

  /** The socket went away: repeatable requests go out again later, the others fail now. */
  socketLost(): void {
    for (const [id, e] of this.entries) {
      if (!e.sent) continue;
      if (e.spec.resend) e.sent = false;
      else
        this.finish(
          id,
          null,
          new ClientError('disconnected', 'The connection dropped before the answer came.', true),
        );
    }
  }

  failAll(error: ClientError): void {
    for (const id of [...this.entries.keys()]) this.finish(id, null, error);
  }

  private transmit(id: string, e: Entry): void {
    if (!e.sent) e.sent = this.send(JSON.stringify(e.spec.build(id)));
  }

  private finish(
    id: string,
    ack: AckMessage | null,
    error: ClientError | null,
    reply?: RequestErrorMessage,
  ): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    clearTimeout(e.timer);
    e.spec.settle(ack, error, reply);
  }
}
