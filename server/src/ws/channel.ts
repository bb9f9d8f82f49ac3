import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  CLIENT_MESSAGE_TYPES,
  clientMessageSchema,
  isRetryable,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ErrorCode,
  type HelloMessage,
  type RequestErrorMessage,
  type ServerMessage,
} from '@app/shared';
import { AppError } from '../app-error.js';
import type { AppContext } from '../http/context.js';
import { ClientRunLimit } from '../runs/client-limit.js';
import type { Subscription } from '../runs/subscription.js';
import { WsSink } from './ws-sink.js';

/** One client socket: many runs multiplexed on it, each with its own cursor. */
export class Channel {
  private readonly subs = new Map<string, Subscription>();
  /** Runs this socket started or resumed, for the per-socket concurrency limit. */
  private readonly owned = new Set<string>();
  /** Set once the socket is gone: replies waiting for a commit are dropped. */
  private closed = false;
  /** Messages are handled one after another; each may read storage. */
  private queue: Promise<void> = Promise.resolve();
  private readonly sink: WsSink;
  private readonly perClient: ClientRunLimit;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: AppContext,
    socket: Duplex,
    /** The client's address, for the per-client run limit shared with its other sockets and requests. */
    private readonly client: string,
  ) {
    this.sink = new WsSink(ws, socket, ctx.config.WS_HIGH_WATER_BYTES, ctx.protocolCheck?.wsMessage);
    this.perClient = ClientRunLimit.of(ctx.manager, ctx.config.MAX_RUNNING_RUNS_PER_CLIENT);
    const hello: HelloMessage = {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      model: ctx.model.builtin ? `${ctx.model.name} (built-in)` : ctx.model.name,
      limits: {
        maxMessageBytes: ctx.config.WS_MAX_MESSAGE_BYTES,
        maxRunsPerSocket: ctx.config.WS_MAX_RUNS_PER_SOCKET,
        heartbeatMs: ctx.config.WS_HEARTBEAT_MS,
      },
    };
    this.reply(hello);
  }

  onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (isBinary)
      return this.fail('binary_not_supported', 'Send JSON text frames; binary frames are not accepted.');
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.fail('invalid_json', 'The message is not valid JSON.');
    }
    const requestId =
      typeof raw === 'object' &&
      raw !== null &&
      typeof (raw as { requestId?: unknown }).requestId === 'string'
        ? (raw as { requestId: string }).requestId
        : undefined;
    const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
      return this.fail(
        'unknown_type',
        `Unknown message type ${JSON.stringify(type)}; expected one of ${CLIENT_MESSAGE_TYPES.join(', ')}.`,
        requestId,
      );
    }
    const parsed = clientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
      return this.fail('invalid_message', `Invalid ${type} message: ${why}`, requestId);
    }
    const msg = parsed.data;
    // One message at a time, in the order sent: a subscribe after a start sees the run the start made.
    this.queue = this.queue
      .then(() => (this.closed ? undefined : this.handle(msg)))
      .catch((err: unknown) => {
        if (err instanceof AppError) return this.fail(err.code, err.message, msg.requestId, runIdOf(msg));
        this.ctx.log.error({ err }, 'websocket handler failed');
        this.fail('internal', 'Internal error.', msg.requestId, runIdOf(msg));
      });
  }

  close(): void {
    this.closed = true;
    for (const sub of this.subs.values()) this.ctx.manager.unsubscribe(sub);
    this.subs.clear();
  }

  private async handle(msg: ClientMessage): Promise<void> {
    const { manager } = this.ctx;
    switch (msg.type) {
      case 'start': {
        // A retried start of a run this socket already has must not count against the limit.
        const { run } = await this.perClient.startOnce(this.client, msg.userId, msg.key, () =>
          this.checkRunLimit(),
        );
        this.owned.add(run.id);
        // Acknowledged once the run's row and first frames are committed: a crash cannot take it back.
        run.whenCommitted(() => {
          if (this.closed) return;
          this.reply({ type: 'ack', op: 'start', runId: run.id, requestId: msg.requestId });
          this.watch(run.id, 0, false).catch((err: unknown) =>
            this.ctx.log.error({ err, runId: run.id }, 'watching a started run failed'),
          );
        });
        return;
      }
      case 'subscribe':
        await this.watch(msg.runId, msg.after ?? 0, true, msg.requestId);
        return;
      case 'cancel':
        await manager.cancel(msg.runId);
        this.reply({ type: 'ack', op: 'cancel', runId: msg.runId, requestId: msg.requestId });
        return;
      case 'resume': {
        const from = (await manager.open(msg.runId))?.lastSeq ?? 0;
        const run = await this.perClient.resume(this.client, msg.runId, () => this.checkRunLimit());
        this.owned.add(run.id);
        this.reply({ type: 'ack', op: 'resume', runId: run.id, requestId: msg.requestId });
        // Watching only once resume succeeded (a refused resume leaves no subscription behind); starting
        // from the log position before it, so the frames resume already emitted follow the ack.
        if (!this.subs.has(run.id)) await this.watch(run.id, from, false);
        return;
      }
      case 'unsubscribe': {
        if (!(await manager.exists(msg.runId)))
          throw new AppError('run_not_found', `No run with id ${msg.runId}.`);
        const sub = this.subs.get(msg.runId);
        if (sub) manager.unsubscribe(sub);
        this.subs.delete(msg.runId);
        this.reply({ type: 'ack', op: 'unsubscribe', runId: msg.runId, requestId: msg.requestId });
        return;
      }
      case 'ping':
        this.reply({ type: 'pong', requestId: msg.requestId });
        return;
      default: {
        const exhaustive: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(exhaustive)}`);
      }
    }
  }

  /** Subscribes (or re-subscribes) this socket to a run from `after`; the ack precedes the frames. */
  private async watch(runId: string, after: number, ack: boolean, requestId?: string): Promise<void> {
    const previous = this.subs.get(runId);
    const sub = await this.ctx.manager.subscribe(runId, this.sink, after, undefined, (run) => {
      if (previous) this.ctx.manager.unsubscribe(previous);
      if (ack)
        this.reply({
          type: 'ack',
          op: 'subscribe',
          runId,
          requestId,
          lastSeq: run.lastSeq,
          status: run.status,
        });
    });
    // The socket closed while the run was read back: nothing may stay subscribed for it.
    if (this.closed) return this.ctx.manager.unsubscribe(sub);
    this.subs.set(runId, sub);
  }

  private checkRunLimit(): void {
    let running = 0;
    for (const id of this.owned) {
      if (this.ctx.manager.isRunning(id)) running++;
      else this.owned.delete(id);
    }
    const max = this.ctx.config.WS_MAX_RUNS_PER_SOCKET;
    if (running >= max) {
      throw new AppError(
        'too_many_runs',
        `This socket already has ${running} running runs (limit ${max}); wait for one to end.`,
      );
    }
  }

  private fail(code: ErrorCode, message: string, requestId?: string, runId?: string): void {
    const m: RequestErrorMessage = {
      type: 'request_error',
      code,
      message,
      retryable: isRetryable(code),
      requestId,
      runId,
    };
    this.reply(m);
  }

  private reply(m: ServerMessage): void {
    this.sink.sendControl(m);
  }
}

const runIdOf = (m: ClientMessage): string | undefined => ('runId' in m ? m.runId : undefined);
