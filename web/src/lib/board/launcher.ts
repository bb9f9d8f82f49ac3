import { isLive } from '../status';
import type { PanelRuns, RunPanel } from './panel-runs';
import { PanelQueue, SERVER_LIMIT, type QueuedPanel } from './run-queue';
import { StartKeys, type StartingPanel } from './start-keys';
import type { Transport } from './transport';

/** The part of a panel a launch reads and writes. */
export type LaunchPanel = QueuedPanel &
  StartingPanel &
  RunPanel & {
    notify: boolean;
    /** When the live attempt began (ms epoch), for the elapsed clock. */
    liveSince: number | null;
  };

/** What a {@link Launcher} needs from the board. */
export interface LauncherContext<P extends LaunchPanel> {
  transport(): Transport | null;
  onBoard(panel: P): boolean;
  /** Runs live now. */
  live(): number;
  /** The most runs live at once; null while not known (nothing starts). */
  maxLive(): number | null;
  runs: PanelRuns<P>;
  failed(panel: P, err: unknown): void;
  /** The queue or a panel's run changed: save the board. */
  changed(): void;
}

/**
 * Starts runs through the queue: a batch waits behind its own concurrency, a single start goes first,
 * and nothing starts beyond the server's limit. Each start is sent with its start key.
 */
export class Launcher<P extends LaunchPanel> {
  readonly queue = new PanelQueue<P>();
  private readonly keys: StartKeys<P>;

  constructor(private readonly ctx: LauncherContext<P>) {
    this.keys = new StartKeys<P>({
      onBoard: ctx.onBoard,
      transport: ctx.transport,
      started: (panel, runId) => {
        ctx.runs.attach(panel, runId);
        ctx.changed();
      },
      failed: (panel, err) => {
        if (panel.status === 'starting' && !panel.runId) panel.clear('idle');
        ctx.failed(panel, err);
        this.pump();
      },
    });
  }

  /** Queues the panels that are neither live nor waiting, at most `limit` of the batch live at once. */
  batch(panels: readonly P[], limit: number): void {
    for (const p of panels) if (!isLive(p.status) && p.status !== 'queued') this.queue.add(p, limit);
    this.pump();
    this.ctx.changed();
  }

  /** Starts (or regenerates) one panel's run now, or first in the queue while the server's limit is reached. */
  single(panel: P): void {
    if (isLive(panel.status) || panel.status === 'queued') return;
    this.queue.add(panel, SERVER_LIMIT, true);
    this.pump();
    this.ctx.changed();
  }

  /** Starts queued panels while there is room under their limit and the server's. */
  pump(): void {
    const transport = this.ctx.transport();
    const maxLive = this.ctx.maxLive();
    if (!transport || maxLive === null) return;
    const started = this.queue.take(this.ctx.live(), maxLive);
    for (const panel of started) {
      this.ctx.runs.detach(panel);
      panel.clear('starting');
      panel.notify = true;
      panel.liveSince = Date.now();
      void this.keys.start(panel, transport);
    }
    if (started.length > 0) this.ctx.changed();
  }
}
