import type { RunStatus } from '@app/shared';
import type { RunView } from '@app/shared/client';
import { isLive, type PanelStatus } from '../status';

/** After a reconnect, re-subscribed runs get this long to catch up before their views are checked. */
export const VERIFY_DELAY_MS = 1000;
/** A live panel without a frame for this long is checked against the server. */
export const QUIET_MS = 5000;

/** The part of a panel the check reads. */
export interface CheckedPanel {
  readonly runId: string | null;
  readonly view: RunView | null;
  readonly status: PanelStatus;
}

/** Settings of a {@link ViewCheck}. */
export interface ViewCheckOptions<P> {
  /** The server's stored status and last seq of a run; null when it cannot be read now. */
  stored(runId: string): Promise<{ status: RunStatus; lastSeq: number } | null>;
  /** The view has diverged from the server's log: rebuild it from seq 1. */
  rebuild(panel: P, runId: string): Promise<void>;
}

/**
 * A live view may have diverged from the server's log: a crash loses the last frames written in the
 * current batch, and the restarted server numbers its `interrupted` frame with a seq the client has
 * already seen for another frame. When a cursor lands exactly there, the re-subscribe (or the SSE
 * replay) has nothing new to send and the panel would stream forever. A run that has settled on the
 * server at or below our last seq is rebuilt from seq 1. Checked after every WebSocket reconnect and
 * whenever a live panel has been silent for a while (SSE reconnects on its own, unseen).
 */
export class ViewCheck<P extends CheckedPanel> {
  /** When each panel last got a frame (for the quiet check). */
  private readonly lastFrameAt = new WeakMap<P, number>();
  /** Panels whose view is being checked. */
  private readonly checking = new WeakSet<P>();

  constructor(private readonly opts: ViewCheckOptions<P>) {}

  /** The panel got a frame (or a new run) at `now`. */
  seen(panel: P, now = Date.now()): void {
    this.lastFrameAt.set(panel, now);
  }

  async check(panel: P): Promise<void> {
    const { view, runId } = panel;
    if (!view || !runId || !isLive(view.status) || this.checking.has(panel)) return;
    this.checking.add(panel);
    try {
      const stored = await this.opts.stored(runId);
      // Frames kept coming while we asked: only a view still live with nothing left to receive is stuck.
      if (!stored || panel.view !== view || !isLive(view.status)) return;
      if (stored.status === 'running' || stored.lastSeq > view.lastSeq) return;
      await this.opts.rebuild(panel, runId);
    } finally {
      this.checking.delete(panel);
    }
  }

  /** A WebSocket reconnect re-subscribed every run from its cursor: check them once they caught up. */
  afterReconnect(panels: () => readonly P[]): void {
    setTimeout(() => {
      for (const panel of panels()) void this.check(panel);
    }, VERIFY_DELAY_MS);
  }

  /** Called once a second: live panels that went quiet are checked. */
  tick(panels: readonly P[], now = Date.now()): void {
    for (const panel of panels) {
      const last = this.lastFrameAt.get(panel) ?? now;
      if (isLive(panel.status) && now - last > QUIET_MS) {
        this.lastFrameAt.set(panel, now);
        void this.check(panel);
      }
    }
  }
}
