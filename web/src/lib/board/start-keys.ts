import { ClientError } from '@app/shared/client';
import type { Transport } from './transport';

/** 32 hex digits; getRandomValues works on plain-http pages too, where randomUUID does not exist. */
export const newStartKey = (): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/** The server refused the request (as opposed to it being lost on the way, when it may have acted). */
export const answeredByServer = (err: unknown): boolean =>
  err instanceof ClientError &&
  !err.retryable &&
  err.code !== 'timeout' &&
  err.code !== 'disconnected' &&
  err.code !== 'closed';

/** The part of a panel a start reads and writes. */
export interface StartingPanel {
  readonly userId: string;
  readonly runId: string | null;
  readonly status: string;
  /** Key of the start in flight, kept until it is answered so a retry cannot start a second run. */
  startKey: string | null;
}

/** What a start reports back. */
export interface StartOutcome<P> {
  /** Whether the panel is still on the board (a removed panel's answer is dropped). */
  onBoard(panel: P): boolean;
  /** The transport in use now (a start that died with a replaced transport was already queued again). */
  transport(): Transport | null;
  started(panel: P, runId: string): void;
  failed(panel: P, err: unknown): void;
}

/**
 * Starts runs with start keys: one key per intended run, kept across retries of that start (a
 * transport fallback, a reload) so they all name one run, and dropped once the server has answered.
 */
export class StartKeys<P extends StartingPanel> {
  /** The latest start attempt of each panel, so a stale answer is ignored. */
  private readonly attempts = new WeakMap<P, object>();

  constructor(private readonly on: StartOutcome<P>) {}

  /** Sends the start of a panel already showing `starting`. */
  async start(panel: P, transport: Transport): Promise<void> {
    const attempt = {};
    this.attempts.set(panel, attempt);
    const current = () => this.attempts.get(panel) === attempt && this.on.onBoard(panel);
    const key = (panel.startKey ??= newStartKey());
    try {
      const runId = await transport.start(panel.userId, key);
      if (!current() || panel.status !== 'starting' || panel.runId) {
        transport.unwatch(runId);
        // Still this attempt's panel, but it moved on: the next start is a new run with a new key.
        if (current()) panel.startKey = null;
        return;
      }
      panel.startKey = null;
      this.on.started(panel, runId);
    } catch (err) {
      if (!current() || transport !== this.on.transport()) return;
      // Unanswered (timeout, dropped link): the server may have started it, so a retry keeps the key.
      if (answeredByServer(err)) panel.startKey = null;
      this.on.failed(panel, err);
    }
  }
}
