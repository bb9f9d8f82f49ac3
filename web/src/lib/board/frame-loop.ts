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

/** Runs `cb` once soon; returns the function that cancels it. */
export type Scheduler = (cb: () => void) => () => void;

/** The next animation frame, or 250 ms when there is none (hidden tabs get no animation frames). */
export const nextFrame: Scheduler = (cb) => {
  const raf = requestAnimationFrame(cb);
  const timer = setTimeout(cb, 250);
  return () => {
    cancelAnimationFrame(raf);
    clearTimeout(timer);
  };
};

/**
 * The per-frame update: frames are folded into plain run views as they arrive, and the panels they
 * changed are synced once per animation frame, so a burst of frames costs one DOM update.
 */
export class FrameLoop<P extends SyncedPanel> {
  private readonly dirty = new Set<P>();
  private cancel: (() => void) | null = null;

  constructor(
    /** Called after each update with the status changes it made (often none). */
    private readonly updated: (changes: StatusChange<P>[]) => void,
    private readonly schedule: Scheduler = nextFrame,
  ) {}

  /** The panel's view changed: sync it on the next frame. */
  mark(panel: P): void {
    this.dirty.add(panel);
    this.cancel ??= this.schedule(() => this.flush());
  }

  /** Syncs every changed panel now. */
  flush(): void {
    this.cancel?.();
    this.cancel = null;
    const changes: StatusChange<P>[] = [];
    for (const panel of this.dirty) {
      const from = panel.status;
      panel.sync();
      const to = panel.status;
      if (from !== to) changes.push({ panel, from, to, notify: panel.notify });
    }
    this.dirty.clear();
    this.updated(changes);
  }
}
