import type { RunStatus } from '../domain.js';
import { isTerminalFrame, type RunFrame } from '../frames.js';
import type { ClientMessage, RequestErrorMessage } from '../ws-protocol.js';
import { ChannelCore } from './channel-core.js';
import { Listeners } from './listeners.js';
import type { ClientError } from './types.js';

export type { StreamClientOptions } from './channel-core.js';

/** The subscribe ack's view of a run when watching began. */
export interface WatchInfo {
  lastSeq: number;
  status: RunStatus;
}

interface Watch {
  /** Last seq delivered to consumers; null after resuming an unwatched run until its first frame. */
  cursor: number | null;
  /** A subscribe is in flight: frames wait for its ack, since the new subscription resends them. */
  subscribing: boolean;
  /** Seq of the last terminal frame delivered (0 when none): tells a rewritten log tail apart. */
  terminalSeq: number;
}

/**
 * A WebSocket client of `/api/v1/ws` that hides reconnects: every watched run keeps a cursor (last seq
 * delivered), frames at or below it are dropped, and after a reconnect each watched run is subscribed
 * again from its cursor, so consumers see every frame exactly once and in order.
 *
 * If a re-subscribe is refused with `invalid_cursor` (the server lost frames the client had seen, e.g.
 * in a crash), the error goes to `onRequestError`, `onReset(runId)` tells consumers to drop what they
 * built for the run, and the run is re-subscribed from 0. Errors answering a caller's request reject
 * that call's promise; `onRequestError` gets the others. A `start`, `cancel` or `resume` whose socket
 * drops before the answer rejects with `disconnected` (repeating it might act twice); `watch` and
 * `unwatch` are repeated on the next socket.
 */
export class StreamClient extends ChannelCore {
  private readonly watched = new Map<string, Watch>();
  private readonly frames = new Listeners<RunFrame>();
  private readonly resets = new Listeners<string>();

  /** Every run frame of every watched run, once each, in seq order per run. */
  onFrame(cb: (f: RunFrame) => void): () => void {
    return this.frames.add(cb);
  }

  /** A run's frames restart from seq 1: discard what was built from its earlier frames. */
  onReset(cb: (runId: string) => void): () => void {
    return this.resets.add(cb);
  }

  /**
   * Starts a run, watched from seq 1. Resolves the run id. With a `key` the start is safe to repeat (the
   * server answers a repeat with the run the key started), so it is also re-sent after a reconnect.
   */
  async start(userId: string, key?: string): Promise<string> {
    const ack = await this.request(
      (requestId) => (key ? { type: 'start', userId, key, requestId } : { type: 'start', userId, requestId }),
      key !== undefined,
      (a) => {
        // Synchronously: the run's frames follow the ack before any promise callback runs.
        if (a && !this.watched.has(a.runId))
          this.watched.set(a.runId, { cursor: 0, subscribing: false, terminalSeq: 0 });
      },
    );
    return ack.runId;
  }

  /**
   * Watches a run from `after` (default: its cursor if watched, else 0) until {@link unwatch} or close,
   * a resumed run's new frames included. Resolves with the run's state when the watch began.
   */
  async watch(runId: string, after?: number): Promise<WatchInfo> {
    const prev = this.watched.get(runId);
    const w: Watch = {
      cursor: after ?? prev?.cursor ?? 0,
      subscribing: false,
      terminalSeq: after === undefined ? (prev?.terminalSeq ?? 0) : 0,
    };
    this.watched.set(runId, w);
    const ack = await this.subscribe(runId, w, () => {
      if (this.watched.get(runId) !== w) return;
      if (prev) this.watched.set(runId, prev);
      else this.watched.delete(runId);
    });
    return { lastSeq: ack.lastSeq ?? 0, status: ack.status ?? 'running' };
  }

  /** Stops watching; frames of the run are no longer delivered. */
  async unwatch(runId: string): Promise<void> {
    this.watched.delete(runId);
    await this.request((requestId) => ({ type: 'unsubscribe', runId, requestId }), true);
  }

  /** Asks the server to stop a running run; its `cancelled` frame follows on the watch. */
  async cancel(runId: string): Promise<void> {
    await this.request((requestId) => ({ type: 'cancel', runId, requestId }), false);
  }

  /** Continues a cancelled, interrupted or retryably failed run; the run is watched if it was not. */
  async resume(runId: string): Promise<void> {
    // The server sends the first resumed frames before the ack, so the watch must exist already.
    const w: Watch = this.watched.get(runId) ?? { cursor: null, subscribing: false, terminalSeq: 0 };
    this.watched.set(runId, w);
    await this.request(
      (requestId) => ({ type: 'resume', runId, requestId }),
      false,
      (a) => {
        if (!a && w.cursor === null && this.watched.get(runId) === w) this.watched.delete(runId);
      },
    );
  }

  /** Last seq delivered for a run (0 when none). */
  lastSeq(runId: string): number {
    return this.watched.get(runId)?.cursor ?? 0;
  }

  override close(): void {
    super.close();
    this.watched.clear();
  }

  protected opened(): void {
    // A null cursor belongs to a resume still queued: its own auto-subscription will follow.
    for (const [runId, w] of this.watched)
      if (!w.subscribing && w.cursor !== null) this.resubscribe(runId, w);
  }

  protected deliver(f: RunFrame): void {
    const w = this.watched.get(f.runId);
    if (!w || w.subscribing || (w.cursor !== null && f.seq <= w.cursor)) return;
    w.cursor = f.seq;
    if (isTerminalFrame(f)) w.terminalSeq = f.seq;
    this.frames.emit(f);
  }

  /** Re-subscribes after a reconnect; `invalid_cursor` restarts the run from 0 (see the class doc). */
  private resubscribe(runId: string, w: Watch): void {
    const restart = () => {
      this.resets.emit(runId);
      w.cursor = 0;
      w.terminalSeq = 0;
      this.resubscribe(runId, w);
    };
    const cursor = w.cursor ?? 0;
    const onAck = (ack: { lastSeq?: number; status?: string }) => {
      // A crash can lose frames we saw; the restarted server then ends the log at or below our cursor
      // with a terminal frame we never got. Our tail is not the server's: start again from 0.
      const last = ack.lastSeq ?? 0;
      if (ack.status && ack.status !== 'running' && last > 0 && last <= cursor && w.terminalSeq !== last)
        restart();
    };
    this.subscribe(
      runId,
      w,
      (err, reply) => {
        if (reply) this.requestErrors.emit(reply);
        if (this.watched.get(runId) !== w) return;
        if (err.code === 'invalid_cursor') {
          restart();
        } else if (err.code === 'timeout') {
          this.conn.reconnect('a re-subscribe went unanswered');
        } else if (err.code !== 'closed') {
          this.watched.delete(runId);
        }
      },
      onAck,
    ).catch(() => {}); // handled by the callback above
  }

  private subscribe(
    runId: string,
    w: Watch,
    failed: (err: ClientError, reply?: RequestErrorMessage) => void,
    acked?: (ack: { lastSeq?: number; status?: string }) => void,
  ) {
    w.subscribing = true;
    const build = (requestId: string): ClientMessage => ({
      type: 'subscribe',
      runId,
      after: w.cursor ?? 0,
      requestId,
    });
    return this.request(build, true, (ack, err, reply) => {
      w.subscribing = false; // synchronously: the new subscription's frames follow the ack at once
      if (!ack && err) failed(err, reply);
      else if (ack && acked) acked(ack);
    });
  }
}
