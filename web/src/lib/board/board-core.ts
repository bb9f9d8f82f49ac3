import type { ConnectionState } from '@app/shared/client';
import { isLive, isSettled } from '../status';
import type { Panel } from '../stores/panel.svelte';
import { loadBoard, restore, saveBoard, snapshot, type SavedPanel } from './board-storage';
import { BoardStreams, type StreamsHost } from './board-streams';
import type { StatusChange } from './frame-loop';
import { Launcher } from './launcher';
import { clampConcurrency } from './limits';
import type { RequestAction } from './run-requests';
import type { Transport } from './transport';

export type ActionFailure = { panel: Panel; action: RequestAction | 'start'; message: string };
export type User = { id: string; name: string | null };

/**
 * The board: panels (one per user), the queue that starts their runs and the live side that streams
 * them, behind the operations the UI calls. The state is declared here and kept reactive by the runes
 * adapter (stores/board.svelte.ts), which also makes the panels.
 */
export abstract class BoardCore implements StreamsHost {
  abstract panels: Panel[];
  abstract connection: ConnectionState;
  abstract transportKind: Transport['kind'];
  abstract maxLive: number | null;
  abstract columns: number;
  abstract concurrency: number;
  abstract now: number;
  abstract settledCount: number;
  protected abstract newPanel(user: User): Panel;
  abstract render(): void;

  private readonly streams = new BoardStreams(this);
  private readonly launcher = new Launcher<Panel>({
    transport: () => this.streams.link.transport,
    onBoard: (p) => this.panels.includes(p),
    live: () => this.liveCount,
    maxLive: () => this.maxLive,
    runs: this.streams.runs,
    failed: (p, err) => this.fail(p, 'start', err),
    changed: () => this.save(),
  });
  private readonly statusListeners = new Set<(c: StatusChange<Panel>) => void>();
  private readonly failureListeners = new Set<(f: ActionFailure) => void>();

  /** Connects and re-attaches the saved board. Idempotent. */
  init(): void {
    if (this.streams.link.state.name !== 'closed') return;
    const saved = loadBoard();
    this.columns = Number.isInteger(saved.columns) ? saved.columns : 0;
    this.concurrency = clampConcurrency(Number(saved.concurrency) || 4, null);
    this.streams.open();
    const make = (s: SavedPanel): Panel | null => {
      if (this.panelOf(s.userId)) return null;
      const panel = this.newPanel({ id: s.userId, name: s.name ?? null });
      this.panels.push(panel);
      return panel;
    };
    restore(saved, make, {
      watch: (p, runId) => void this.streams.requests.watch(p, runId),
      resend: (p, key) => {
        p.startKey = key;
        this.launcher.single(p);
      },
      enqueue: (p, limit) => this.launcher.queue.add(p, limit),
    });
    this.pump();
  }

  /** Status changes of panels (for toasts and the live region); returns the function that stops listening. */
  onStatus(cb: (c: StatusChange<Panel>) => void): () => void {
    this.statusListeners.add(cb);
    return () => this.statusListeners.delete(cb);
  }

  /** Requests that failed (for toasts); returns the function that stops listening. */
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
  add(users: User[]): Panel[] {
    for (const u of users) if (!this.panelOf(u.id)) this.panels.push(this.newPanel(u));
    this.save();
    return users.map((u) => this.panelOf(u.id)!);
  }

  /** Starts the users' runs, at most `concurrency` (and the server's limit) at once; the rest wait in the queue. */
  startBatch(users: User[], concurrency = this.concurrency): void {
    if (Number.isFinite(concurrency)) this.concurrency = clampConcurrency(concurrency, this.maxLive);
    this.launcher.batch(this.add(users), this.concurrency);
  }

  /** Starts (or regenerates) one panel's run now, or first in the queue while the server's limit is reached. */
  start(panel: Panel): void {
    this.launcher.single(panel);
  }

  async cancel(panel: Panel): Promise<void> {
    if (this.launcher.queue.remove(panel)) this.save();
    else await this.streams.requests.cancel(panel);
  }

  resume(panel: Panel): Promise<void> {
    return this.streams.requests.resume(panel);
  }

  /** Takes the panel off the board; its run goes on on the server. */
  remove(panel: Panel): void {
    this.launcher.queue.remove(panel);
    this.streams.runs.detach(panel);
    this.panels = this.panels.filter((p) => p !== panel);
    this.save();
    this.pump();
  }

  clear(): void {
    for (const p of [...this.panels]) this.remove(p);
  }

  /** Shows a stored run (any status) in the user's panel, replayed from the server's log. */
  open(user: User, runId: string): Panel {
    const [panel] = this.add([user]);
    if (panel!.runId !== runId) {
      this.launcher.queue.remove(panel!);
      void this.streams.requests.watch(panel!, runId);
    }
    this.save();
    return panel!;
  }

  setColumns(n: number): void {
    this.columns = n;
    this.save();
  }

  // ---- for the live side (StreamsHost) ----

  pump(): void {
    this.launcher.pump();
  }

  requeue(panel: Panel): void {
    this.launcher.single(panel);
  }

  /** After each per-frame update: notify, count settled runs, start queued ones if runs ended. */
  updated(changes: StatusChange<Panel>[]): void {
    this.settledCount += changes.filter((c) => isSettled(c.to)).length;
    for (const c of changes) for (const cb of this.statusListeners) cb(c);
    if (changes.some((c) => isLive(c.from) && !isLive(c.to))) this.pump();
  }

  fail(panel: Panel, action: ActionFailure['action'], err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    for (const cb of this.failureListeners) cb({ panel, action, message });
  }

  save(): void {
    const layout = { columns: this.columns, concurrency: this.concurrency };
    saveBoard(snapshot(this.panels, (p) => this.launcher.queue.limitOf(p), layout));
  }
}
