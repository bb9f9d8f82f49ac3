import type { RunFrame } from '@app/shared';
import {
  applyFrame,
  ClientError,
  createRunView,
  type ConnectionState,
  type WebSocketCtor,
} from '@app/shared/client';
import { api, ApiError } from '../api';
import { RunQueue } from '../run-queue';
import { loadBoard, saveBoard, type SavedBoard } from '../saved-board';
import { isLive, isSettled, type PanelStatus } from '../status';
import {
  probeWebSocket,
  SseTransport,
  WsTransport,
  type Transport,
  type TransportHandlers,
} from '../transport';
import { Panel } from './panel.svelte';

/** The server's default per-socket limit of running runs (WS_MAX_RUNS_PER_SOCKET). */
export const MAX_LIVE = 8;
/** Frames of a run we do not know yet (its start ack is on the way) are kept this long. */
const ORPHAN_LIMIT = 5000;
/** After a reconnect, re-subscribed runs get this long to catch up before their views are checked. */
const VERIFY_DELAY_MS = 1000;
/** A watch that found no connection is tried again after this long. */
const WATCH_RETRY_MS = 3000;
/** A live panel without a frame for this long is checked against the server. */
const QUIET_MS = 5000;
/** After a fallback to SSE, WebSocket is tried again after this long, doubling up to the maximum. */
const WS_RETRY_FIRST_MS = 15_000;
const WS_RETRY_MAX_MS = 300_000;

export interface StatusChange {
  panel: Panel;
  from: PanelStatus;
  to: PanelStatus;
  /** False for changes seen while replaying an old run (no toast for history). */
  notify: boolean;
}

export interface ActionFailure {
  panel: Panel | null;
  action: 'start' | 'cancel' | 'resume' | 'watch';
  message: string;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** The server refused the request (as opposed to it being lost on the way). */
const answeredByServer = (err: unknown): boolean =>
  err instanceof ClientError &&
  !err.retryable &&
  err.code !== 'timeout' &&
  err.code !== 'disconnected' &&
  err.code !== 'closed';
/** The browser's WebSocket, if it has one. */
const browserWebSocket = (): WebSocketCtor | undefined =>
  (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
/** 32 hex digits; getRandomValues works on plain-http pages too, where randomUUID does not exist. */
const newStartKey = (): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The runes adapter over the framework-free client: panels (one per user), the batch queue, the
 * connection, persistence of the board's run ids. Frames are folded into plain run views as they come
 * and copied to reactive panel state once per animation frame.
 */
class Board {
  panels = $state<Panel[]>([]);
  connection = $state<ConnectionState>('connecting');
  transportKind = $state<'ws' | 'sse'>('ws');
  /** 0 = as many as fit. */
  columns = $state(0);
  concurrency = $state(4);
  /** Ticks once a second while something is live, for elapsed clocks. */
  now = $state(Date.now());
  /** Bumped whenever a run settles, so lists showing "last run" can refresh. */
  settledCount = $state(0);

  private transport: Transport | null = null;
  private readonly byRun = new Map<string, Panel>();
  private readonly dirty = new Set<Panel>();
  private readonly queue = new RunQueue<Panel>();
  private readonly orphans = new Map<string, RunFrame[]>();
  private readonly statusListeners = new Set<(c: StatusChange) => void>();
  private readonly failureListeners = new Set<(f: ActionFailure) => void>();
  /** When each panel last got a frame (for the quiet check). */
  private readonly lastFrameAt = new WeakMap<Panel, number>();
  /** Panels whose view is being checked against the server. */
  private readonly verifying = new WeakSet<Panel>();
  /** The latest start attempt of each panel, so a stale answer is ignored. */
  private readonly launches = new WeakMap<Panel, object>();
  private rafHandle = 0;
  private fallbackTimer: ReturnType<typeof setTimeout> | null = null;
  private clock: ReturnType<typeof setInterval> | null = null;
  private wsRetry: ReturnType<typeof setTimeout> | null = null;
  private wsRetryMs = WS_RETRY_FIRST_MS;

  /** Connects and re-attaches the saved board. Idempotent. */
  init(): void {
    if (this.transport) return;
    const saved = loadBoard();
    this.columns = Number.isInteger(saved.columns) ? saved.columns : 0;
    this.concurrency = Math.min(MAX_LIVE, Math.max(1, Number(saved.concurrency) || 4));
    this.transport = this.createTransport();
    for (const s of saved.panels) {
      if (this.panelOf(s.userId)) continue;
      const panel = new Panel(s.userId, s.name ?? null);
      this.panels.push(panel);
      if (s.runId) void this.watchExisting(panel, s.runId);
      else if (s.startKey) {
        // Reloaded while its start was in flight: the same key finds the run if the server got it.
        panel.startKey = s.startKey;
        this.start(panel);
      }
      if (s.queued) this.enqueue(panel, s.queued);
    }
    this.clock = setInterval(() => this.tick(), 1000);
    this.pump();
  }

  /** Status changes of panels (for toasts and the live region). */
  onStatus(cb: (c: StatusChange) => void): () => void {
    this.statusListeners.add(cb);
    return () => this.statusListeners.delete(cb);
  }

  /** Requests that failed (for toasts). */
  onFailure(cb: (f: ActionFailure) => void): () => void {
    this.failureListeners.add(cb);
    return () => this.failureListeners.delete(cb);
  }

  panelOf(userId: string): Panel | undefined {
    return this.panels.find((p) => p.userId === userId);
  }

  get liveCount(): number {
    return this.panels.filter((p) => isLive(p.status)).length;
  }

  get queuedCount(): number {
    return this.panels.filter((p) => p.status === 'queued').length;
  }

  /** Adds panels for users not on the board yet; returns the panels of all of them. */
  add(users: { id: string; name: string | null }[]): Panel[] {
    const out: Panel[] = [];
    for (const u of users) {
      let panel = this.panelOf(u.id);
      if (!panel) {
        panel = new Panel(u.id, u.name);
        this.panels.push(panel);
      }
      out.push(panel);
    }
    this.save();
    return out;
  }

  /** Starts the users' runs, at most `concurrency` at once; the rest wait in the queue. */
  startBatch(users: { id: string; name: string | null }[], concurrency = this.concurrency): void {
    if (Number.isFinite(concurrency))
      this.concurrency = Math.min(MAX_LIVE, Math.max(1, Math.floor(concurrency)));
    for (const panel of this.add(users)) {
      if (!isLive(panel.status) && panel.status !== 'queued') this.enqueue(panel, this.concurrency);
    }
    this.pump();
    this.save();
  }

  /** Starts (or regenerates) one panel's run now, unless the server's per-connection limit is reached. */
  start(panel: Panel): void {
    if (isLive(panel.status) || panel.status === 'queued') return;
    this.queue.add(panel, MAX_LIVE, true);
    panel.status = 'queued';
    this.pump();
    this.save();
  }

  async cancel(panel: Panel): Promise<void> {
    if (panel.status === 'queued') {
      this.dequeue(panel);
      return;
    }
    const runId = panel.runId;
    if (!runId || !this.transport) return;
    panel.busy = true;
    try {
      await this.transport.cancel(runId);
    } catch (err) {
      this.fail(panel, 'cancel', err);
    } finally {
      panel.busy = false;
    }
  }

  async resume(panel: Panel): Promise<void> {
    const runId = panel.runId;
    if (!runId || !this.transport || !panel.view) return;
    panel.busy = true;
    panel.notify = true;
    try {
      await this.transport.resume(runId, panel.view.lastSeq);
    } catch (err) {
      this.fail(panel, 'resume', err);
    } finally {
      panel.busy = false;
    }
  }

  /** Takes the panel off the board; its run goes on on the server. */
  remove(panel: Panel): void {
    this.dequeue(panel);
    this.detach(panel);
    this.panels = this.panels.filter((p) => p !== panel);
    this.save();
    this.pump();
  }

  clear(): void {
    for (const p of [...this.panels]) this.remove(p);
  }

  /** Shows a stored run (any status) in the user's panel, replayed from the server's log. */
  open(user: { id: string; name: string | null }, runId: string): Panel {
    const [panel] = this.add([user]);
    if (panel!.runId !== runId) {
      this.dequeue(panel!);
      void this.watchExisting(panel!, runId);
    }
    this.save();
    return panel!;
  }

  setColumns(n: number): void {
    this.columns = n;
    this.save();
  }

  // ---- internals -------------------------------------------------------------------------------

  private handlers(kind: Transport['kind']): TransportHandlers {
    return {
      frame: (f) => this.onFrame(f),
      reset: (runId) => this.onReset(runId),
      state: (s) => {
        const before = this.connection;
        this.connection = s;
        // A WebSocket reconnect re-subscribes from cursors: check for a crash's lost frames.
        if (kind === 'ws' && s === 'connected' && (before === 'reconnecting' || before === 'offline')) {
          setTimeout(() => this.verifyAll(), VERIFY_DELAY_MS);
        }
      },
    };
  }

  private createTransport(): Transport {
    const WS = browserWebSocket();
    if (typeof WS !== 'function') return this.createSse();
    this.transportKind = 'ws';
    const t: WsTransport = new WsTransport(
      WS,
      this.handlers('ws'),
      // Only the transport in use may decide that WebSocket is blocked.
      () => {
        if (this.transport === t) this.fallBackToSse();
      },
      () =>
        // 401 is not "WebSocket blocked": the token prompt shows and the page reloads with the cookie.
        fetch('/api/v1/health', { cache: 'no-store' }).then(
          (r) => r.ok,
          () => false,
        ),
    );
    return t;
  }

  private createSse(): Transport {
    this.transportKind = 'sse';
    return new SseTransport(globalThis.EventSource, this.handlers('sse'), (runId) =>
      api.run(runId).then(
        (d) => d.status,
        (err: unknown) => {
          if (err instanceof ApiError && err.code === 'run_not_found') throw err;
          return null;
        },
      ),
    );
  }

  /** WebSocket is blocked here: continue every panel over SSE from where it was, and try again later. */
  private fallBackToSse(): void {
    if (this.transport?.kind === 'sse') return;
    this.transport?.close();
    this.transport = this.createSse();
    // Each fallback waits longer before trying again, so a link that keeps failing does not flap.
    this.retryWsLater(this.wsRetryMs);
    this.wsRetryMs = Math.min(WS_RETRY_MAX_MS, this.wsRetryMs * 2);
    this.rewatchAll();
  }

  /** While on SSE after a fallback: WebSocket is probed now and then, and taken back once it works. */
  private retryWsLater(delayMs: number): void {
    if (this.wsRetry) clearTimeout(this.wsRetry);
    this.wsRetry = setTimeout(() => void this.retryWs(delayMs), delayMs);
  }

  private async retryWs(delayMs: number): Promise<void> {
    this.wsRetry = null;
    const WS = browserWebSocket();
    if (typeof WS !== 'function' || this.transport?.kind !== 'sse') return;
    // Requests in flight (start, cancel, resume) finish on the transport that sent them: switch when quiet.
    const inFlight = () => this.panels.some((p) => p.status === 'starting' || p.busy);
    if (inFlight()) return this.retryWsLater(delayMs);
    const works = await probeWebSocket(WS);
    if (this.transport?.kind !== 'sse') return;
    if (!works) return this.retryWsLater(Math.min(WS_RETRY_MAX_MS, delayMs * 2));
    if (inFlight()) return this.retryWsLater(delayMs);
    this.transport.close();
    this.transport = this.createTransport();
    this.rewatchAll();
  }

  /** A new transport: every panel's run is watched again from the last frame it applied. */
  private rewatchAll(): void {
    if (!this.transport) return;
    for (const p of this.panels) {
      if (p.runId && p.view) {
        const runId = p.runId;
        this.transport.watch(runId, p.view.lastSeq).catch((err: unknown) => this.fail(p, 'watch', err));
      } else if (p.status === 'starting') {
        // Its start request died with the socket: queue it again.
        p.status = 'idle';
        this.start(p);
      }
    }
  }

  /**
   * A live view may have diverged from the server's log: a crash loses the last frames written in the
   * current batch, and the restarted server numbers its `interrupted` frame with a seq the client has
   * already seen for another frame. When a cursor lands exactly there, the re-subscribe (or the SSE
   * replay) has nothing new to send and the panel would stream forever. A run that has settled on the
   * server at or below our last seq is rebuilt from seq 1. Checked after every WebSocket reconnect and
   * whenever a live panel has been silent for a while (SSE reconnects on its own, unseen).
   */
  private async verify(panel: Panel): Promise<void> {
    const { view, runId } = panel;
    if (!view || !runId || !isLive(view.status) || this.verifying.has(panel)) return;
    this.verifying.add(panel);
    try {
      const stored = await api.run(runId).catch(() => null);
      // Frames kept coming while we asked: only a view still live with nothing left to receive is stuck.
      if (!stored || panel.view !== view || !isLive(view.status) || !this.transport) return;
      if (stored.status === 'running' || stored.lastSeq > view.lastSeq) return;
      panel.view = createRunView(runId);
      this.dirty.add(panel);
      this.schedule();
      await this.transport.watch(runId, 0).catch((err: unknown) => this.fail(panel, 'watch', err));
    } finally {
      this.verifying.delete(panel);
    }
  }

  private verifyAll(): void {
    for (const panel of this.panels) void this.verify(panel);
  }

  /** Once a second: the elapsed clocks, and a look at live panels that went quiet. */
  private tick(): void {
    const now = Date.now();
    if (this.panels.some((p) => isLive(p.status))) this.now = now;
    for (const panel of this.panels) {
      const last = this.lastFrameAt.get(panel) ?? now;
      if (isLive(panel.status) && now - last > QUIET_MS) {
        this.lastFrameAt.set(panel, now);
        void this.verify(panel);
      }
    }
  }

  private async watchExisting(panel: Panel, runId: string): Promise<void> {
    this.detach(panel);
    this.attach(panel, runId);
    panel.status = 'attaching';
    panel.notify = false;
    try {
      const status = await this.transport!.watch(runId, 0);
      if (panel.runId !== runId) return;
      panel.notify = status === 'running';
      if (status === 'running') {
        // Elapsed since the run began, not since this page attached.
        api.run(runId).then(
          (d) => {
            if (panel.runId === runId && panel.durationMs === 0 && isLive(panel.status)) {
              panel.liveSince = Date.parse(d.createdAt);
            }
          },
          () => {},
        );
      }
    } catch (err) {
      if (panel.runId !== runId) return;
      const code = err instanceof Error && 'code' in err ? err.code : null;
      if (code === 'run_not_found') {
        // The server no longer knows the run (another database): the panel starts afresh.
        this.detach(panel);
        panel.clear('idle');
        this.save();
      } else if (code === 'timeout' || code === 'disconnected' || code === 'closed') {
        // No connection yet (server restarting, transport replaced): try again while still wanted.
        setTimeout(() => {
          if (panel.runId === runId && panel.status === 'attaching' && this.panels.includes(panel)) {
            void this.watchExisting(panel, runId);
          }
        }, WATCH_RETRY_MS);
      } else {
        this.fail(panel, 'watch', err);
      }
    }
  }

  private attach(panel: Panel, runId: string): void {
    panel.clear(panel.status);
    panel.runId = runId;
    panel.view = createRunView(runId);
    this.byRun.set(runId, panel);
    this.lastFrameAt.set(panel, Date.now());
    const early = this.orphans.get(runId);
    this.orphans.delete(runId);
    if (early) for (const f of early) this.onFrame(f);
  }

  private detach(panel: Panel): void {
    const runId = panel.runId;
    if (!runId) return;
    this.byRun.delete(runId);
    this.transport?.unwatch(runId);
    panel.runId = null;
    panel.view = null;
  }

  private async launch(panel: Panel): Promise<void> {
    this.detach(panel);
    panel.clear('starting');
    panel.notify = true;
    this.now = Date.now();
    panel.liveSince = this.now;
    const transport = this.transport!;
    const attempt = {};
    this.launches.set(panel, attempt);
    const current = () => this.launches.get(panel) === attempt && this.panels.includes(panel);
    // Kept across retries of this start (a fallback, a reload), so they all name one run.
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
      this.attach(panel, runId);
      this.save();
    } catch (err) {
      // A start that died with a replaced transport was already queued again.
      if (!current() || transport !== this.transport) return;
      // Unanswered (timeout, dropped link): the server may have started it, so a retry keeps the key.
      if (answeredByServer(err)) panel.startKey = null;
      if (panel.status === 'starting' && !panel.runId) panel.clear('idle');
      this.fail(panel, 'start', err);
      this.pump();
    }
  }

  private enqueue(panel: Panel, limit: number): void {
    if (this.queue.has(panel)) return;
    this.queue.add(panel, limit);
    panel.status = 'queued';
  }

  private dequeue(panel: Panel): void {
    if (!this.queue.remove(panel)) return;
    panel.queuePos = 0;
    panel.status = panel.view ? panel.view.status : 'idle';
    this.renumber();
    this.save();
  }

  /** Starts queued panels while there is room under their limit. */
  private pump(): void {
    const launch = this.queue.take(this.liveCount);
    this.renumber();
    for (const panel of launch) {
      panel.queuePos = 0;
      void this.launch(panel);
    }
    if (launch.length > 0) this.save();
  }

  private renumber(): void {
    this.queue.each((panel, position) => (panel.queuePos = position));
  }

  private onFrame(f: RunFrame): void {
    const panel = this.byRun.get(f.runId);
    if (!panel || !panel.view) {
      const list = this.orphans.get(f.runId) ?? [];
      if (list.length < ORPHAN_LIMIT) list.push(f);
      this.orphans.set(f.runId, list);
      return;
    }
    if (applyFrame(panel.view, f)) {
      this.lastFrameAt.set(panel, Date.now());
      this.dirty.add(panel);
      this.schedule();
    }
  }

  private onReset(runId: string): void {
    const panel = this.byRun.get(runId);
    if (!panel) return;
    // The log restarts from seq 1: rebuild the view from the replay.
    panel.view = createRunView(runId);
    this.dirty.add(panel);
    this.schedule();
  }

  /** One DOM update per animation frame; a timer keeps hidden tabs (no rAF) moving. */
  private schedule(): void {
    if (this.rafHandle) return;
    this.rafHandle = requestAnimationFrame(() => this.flush());
    this.fallbackTimer = setTimeout(() => this.flush(), 250);
  }

  private flush(): void {
    if (this.rafHandle) cancelAnimationFrame(this.rafHandle);
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.rafHandle = 0;
    this.fallbackTimer = null;
    let freed = false;
    const changes: StatusChange[] = [];
    for (const panel of this.dirty) {
      const from = panel.status;
      panel.sync();
      const to = panel.status;
      if (from === to) continue;
      if (isLive(from) && !isLive(to)) freed = true;
      if (isSettled(to)) this.settledCount++;
      changes.push({ panel, from, to, notify: panel.notify });
    }
    this.dirty.clear();
    for (const c of changes) for (const cb of this.statusListeners) cb(c);
    if (freed) this.pump();
  }

  private fail(panel: Panel | null, action: ActionFailure['action'], err: unknown): void {
    const message = err instanceof ApiError ? err.message : errorMessage(err);
    for (const cb of this.failureListeners) cb({ panel, action, message });
  }

  private save(): void {
    const data: SavedBoard = {
      panels: this.panels.map((p) => {
        const queued = this.queue.limitOf(p);
        // Only a start in flight is sent again after a reload; an idle panel never starts by itself.
        const starting = p.startKey && !p.runId && p.status === 'starting' ? { startKey: p.startKey } : {};
        return { userId: p.userId, name: p.name, runId: p.runId, ...(queued ? { queued } : {}), ...starting };
      }),
      columns: this.columns,
      concurrency: this.concurrency,
    };
    saveBoard(data);
  }
}

export const board = new Board();
export type { Panel };
