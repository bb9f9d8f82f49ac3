import type { PanelStatus } from '../status';

/** The part of a panel the loop updates. */
export interface SyncedPanel {
  readonly status: PanelStatus;
  /** Status changes of this panel deserve a toast. */
  readonly notify: boolean;
  /** Copies what changed in the panel's run view to its reactive state. */
  sync(): void;
}

export interface StatusChange<P> {
  panel: P;
  from: PanelStatus;
  to: PanelStatus;
  /** False for changes seen while replaying an old run (no toast for history). */
  notify: boolean;
}

/** Runs `cb` once soon (`inFrame`: in an animation frame); returns the function that cancels it. */
export type Scheduler = (cb: (inFrame: boolean) => void) => () => void;

/** The next animation frame, or 250 ms when there is none (hidden tabs get no animation frames). */
export const nextFrame: Scheduler = (cb) => {
  const raf = requestAnimationFrame(() => cb(true));
  const timer = setTimeout(() => cb(false), 250);
  return () => {
    cancelAnimationFrame(raf);
    clearTimeout(timer);
  };
};

/**
 * Script time one animation frame may spend on panels. Layout and paint of what changed follow in the
 * same task and grow with it, so the panels beyond it wait for the next frame: a frame stays short
 * however many panels stream, and each panel still updates every frame or two.
 */
export const FRAME_BUDGET_MS = 4;

/** Settings of a {@link FrameLoop}. */
export interface FrameLoopOptions {
  schedule?: Scheduler;
  /** Applies synced state to the DOM now (Svelte's `flushSync`), so the budget counts the DOM writes. */
  render?: () => void;
  budgetMs?: number;
  now?: () => number;
}

/**
 * The per-frame update: frames are folded into plain run views as they arrive, and the panels they
 * changed are synced once per animation frame, so a burst of frames costs one DOM update. Panels are
 * synced oldest change first, as many as the frame budget allows.
 */
export class FrameLoop<P extends SyncedPanel> {
  private readonly dirty = new Set<P>();
  private cancel: (() => void) | null = null;
  private readonly schedule: Scheduler;
  private readonly budgetMs: number;
  private readonly now: () => number;

  constructor(
    /** Called after each update with the status changes it made (often none). */
    private readonly updated: (changes: StatusChange<P>[]) => void,
    private readonly opts: FrameLoopOptions = {},
  ) {
    this.schedule = opts.schedule ?? nextFrame;
    this.budgetMs = opts.budgetMs ?? FRAME_BUDGET_MS;
    this.now = opts.now ?? (() => performance.now());
  }

  /** The panel's view changed: sync it on the next frame. */
  mark(panel: P): void {
    this.dirty.add(panel);
    this.cancel ??= this.schedule((inFrame) => this.flush(inFrame));
  }

  /** Syncs changed panels now: within the frame budget when `inFrame`, else all of them. */
  flush(inFrame = false): void {
    this.cancel?.();
    this.cancel = null;
    const start = this.now();
    const changes: StatusChange<P>[] = [];
    for (const panel of this.dirty) {
      // Out of the set first: a panel that changes again goes to the back of the line.
      this.dirty.delete(panel);
      const from = panel.status;
      panel.sync();
      this.opts.render?.();
      const to = panel.status;
      if (from !== to) changes.push({ panel, from, to, notify: panel.notify });
      if (inFrame && this.now() - start >= this.budgetMs) break;
    }
    if (this.dirty.size > 0) this.cancel = this.schedule((inFrame) => this.flush(inFrame));
    this.updated(changes);
  }
}
