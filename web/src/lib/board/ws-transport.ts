import type { RunFrame, RunStatus } from '@app/shared';
import {
  StreamClient,
  cancelRunRest,
  resumeRunRest,
  startRunRest,
  watchRunSse,
  type ConnectionState,
  type EventSourceCtor,
  type WebSocketCtor,
  type WebSocketLike,
} from '@app/shared/client';

/**
 * The board's link to the server: the shared client's WebSocket, or its SSE + REST fallback.
 * Both deliver the same frames (same seq cursor), so the board does not care which one is in use.
 */
export interface Transport {
  readonly kind: 'ws' | 'sse';
  /** `key`: the same key on a retry returns the run it started instead of a second one. */
  start(userId: string, key?: string): Promise<string>;
  /** Watches a run after `after`; resolves the run's status at that moment when the transport knows it. */
  watch(runId: string, after: number): Promise<RunStatus | null>;
  unwatch(runId: string): void;
  cancel(runId: string): Promise<void>;
  /** `after`: the last seq the caller has applied, so no resumed frame is missed. */
  resume(runId: string, after: number): Promise<void>;
  close(): void;
}

export interface TransportHandlers {
  frame(f: RunFrame): void;
  /** The run's log restarts from seq 1 (the server lost frames we had seen): rebuild its view. */
  reset(runId: string): void;
  state(s: ConnectionState): void;
}

/** Same origin as the page. */
export const wsUrl = (): string =>
  `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;

/** How often, while WebSocket is not (stably) up, the page checks whether plain HTTP works. */
const PROBE_EVERY_MS = 2000;
/** A connection that stays up this long proves WebSocket works here. */
const STABLE_MS = 3000;
/** HTTP up but no WebSocket for this long means WebSocket is blocked: fall back to SSE. */
const BLOCKED_AFTER_MS = 4000;
/** Once WebSocket has worked on this page, wait longer (a restarting server's reconnect backoff). */
const BLOCKED_AFTER_WORKED_MS = 20_000;

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

  constructor(
    WebSocket: WebSocketCtor,
    on: TransportHandlers,
    /** Called once WebSocket looks blocked while HTTP works: switch to SSE. */
    private readonly unavailable: () => void,
    private readonly httpUp: () => Promise<boolean>,
  ) {
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
    if (!(await this.httpUp()) || this.closed) {
      this.httpUpSince = null;
      return;
    }
    this.httpUpSince ??= Date.now();
    const limit = this.worked ? BLOCKED_AFTER_WORKED_MS : BLOCKED_AFTER_MS;
    if (!this.stable && Date.now() - this.httpUpSince >= limit) this.unavailable();
  }
}

/**
 * Whether WebSocket works here now: a socket that gets the server's hello and stays open `holdMs`
 * (a proxy that accepts the upgrade and cuts it at once does not count). Settles within `holdMs` + 5 s.
 */
export function probeWebSocket(WebSocket: WebSocketCtor, holdMs = STABLE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    let ws: WebSocketLike;
    try {
      ws = new WebSocket(wsUrl());
    } catch {
      return resolve(false);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close();
      resolve(ok);
    };
    timer = setTimeout(() => done(false), 5000);
    ws.onmessage = () => {
      ws.onmessage = null;
      clearTimeout(timer);
      timer = setTimeout(() => done(true), holdMs);
    };
    ws.onclose = ws.onerror = () => done(false);
  });
}

/** SSE per run (EventSource with Last-Event-ID) plus REST start, cancel and resume. */
export class SseTransport implements Transport {
  readonly kind = 'sse' as const;
  private readonly streams = new Map<string, () => void>();
  /** A watch or resume answered after close must not open a stream nobody will close. */
  private closed = false;

  constructor(
    private readonly EventSource: EventSourceCtor,
    private readonly on: TransportHandlers,
    /** The run's stored status, since an SSE stream has no subscribe answer. */
    private readonly statusOf: (runId: string) => Promise<RunStatus | null>,
  ) {
    on.state('connected');
  }

  async start(userId: string, key?: string): Promise<string> {
    const { runId } = await startRunRest('', userId, { key });
    this.open(runId, 0);
    return runId;
  }

  async watch(runId: string, after: number): Promise<RunStatus | null> {
    // No frame of an earlier stream of this run may arrive once the caller asked to start over.
    this.unwatch(runId);
    const status = await this.statusOf(runId);
    this.open(runId, after);
    return status;
  }

  unwatch(runId: string): void {
    this.streams.get(runId)?.();
    this.streams.delete(runId);
  }

  cancel(runId: string): Promise<void> {
    return cancelRunRest('', runId);
  }

  async resume(runId: string, after: number): Promise<void> {
    await resumeRunRest('', runId);
    // The earlier stream ended with the run; the resumed frames come on a new one.
    this.open(runId, after);
  }

  close(): void {
    this.closed = true;
    for (const stop of this.streams.values()) stop();
    this.streams.clear();
    this.on.state('closed');
  }

  private open(runId: string, after: number): void {
    if (this.closed) return;
    this.streams.get(runId)?.();
    const stop = watchRunSse({
      baseUrl: '',
      runId,
      after,
      EventSource: this.EventSource,
      onFrame: this.on.frame,
      onEnd: () => {
        if (this.streams.get(runId) === stop) this.streams.delete(runId);
      },
    });
    this.streams.set(runId, stop);
  }
}
