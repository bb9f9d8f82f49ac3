import { isLive } from '../status';
import type { PanelRuns, RunPanel } from './panel-runs';
import type { Transport } from './transport';

/** A watch that found no connection is tried again after this long. */
const WATCH_RETRY_MS = 3000;

/** The part of a panel the requests read and write. */
export interface RequestPanel extends RunPanel {
  notify: boolean;
  liveSince: number | null;
  busy: boolean;
  readonly durationMs: number;
}

export type RequestAction = 'cancel' | 'resume' | 'watch';

/** What {@link RunRequests} needs from the board. */
export interface RunRequestsContext<P> {
  transport(): Transport | null;
  onBoard(panel: P): boolean;
  /** The server does not know the panel's run: it was cleared. */
  forgotten(panel: P): void;
  failed(panel: P, action: RequestAction, err: unknown): void;
  /** When a run began (ms epoch), for the elapsed clock. */
  startedAt(runId: string): Promise<number>;
  /** A start that died with its transport: queue it again. */
  requeue(panel: P): void;
}

const codeOf = (err: unknown): unknown => (err instanceof Error && 'code' in err ? err.code : null);

/** Requests about the runs panels show: watching a run (again, on a new transport), cancel and resume. */
export class RunRequests<P extends RequestPanel> {
  constructor(
    private readonly runs: PanelRuns<P>,
    private readonly ctx: RunRequestsContext<P>,
  ) {}

  /** Shows an existing run (any status), replayed from seq 1. */
  async watch(panel: P, runId: string): Promise<void> {
    const transport = this.ctx.transport();
    if (!transport) return;
    this.runs.detach(panel);
    this.runs.attach(panel, runId);
    panel.status = 'attaching';
    panel.notify = false;
    try {
      const status = await transport.watch(runId, 0);
      if (panel.runId !== runId) return;
      panel.notify = status === 'running';
      if (status === 'running') void this.clockFrom(panel, runId);
    } catch (err) {
      if (panel.runId !== runId) return;
      const code = codeOf(err);
      if (code === 'run_not_found') {
        // The server no longer knows the run (another database): the panel starts afresh.
        this.runs.detach(panel);
        panel.clear('idle');
        this.ctx.forgotten(panel);
      } else if (code === 'timeout' || code === 'disconnected' || code === 'closed') {
        // No connection yet (server restarting, transport replaced): try again while still wanted.
        setTimeout(() => {
          if (panel.runId === runId && panel.status === 'attaching' && this.ctx.onBoard(panel)) {
            void this.watch(panel, runId);
          }
        }, WATCH_RETRY_MS);
      } else {
        this.ctx.failed(panel, 'watch', err);
      }
    }
  }

  /** A new transport: every panel's run is watched again from the last frame it applied. */
  rewatch(panels: readonly P[]): void {
    const transport = this.ctx.transport();
    for (const p of panels) {
      if (p.runId && p.view) {
        transport?.watch(p.runId, p.view.lastSeq).catch((err: unknown) => this.ctx.failed(p, 'watch', err));
      } else if (p.status === 'starting') {
        // Its start request died with the socket.
        p.status = 'idle';
        this.ctx.requeue(p);
      }
    }
  }

  cancel(panel: P): Promise<void> {
    return this.send(panel, 'cancel', (t, runId) => t.cancel(runId));
  }

  resume(panel: P): Promise<void> {
    if (!panel.view) return Promise.resolve();
    return this.send(panel, 'resume', (t, runId) => {
      panel.notify = true;
      return t.resume(runId, panel.view?.lastSeq ?? 0);
    });
  }

  /** A request about the panel's run, the panel marked busy while it is in flight. */
  private async send(
    panel: P,
    action: RequestAction,
    request: (t: Transport, runId: string) => Promise<void>,
  ) {
    const runId = panel.runId;
    const transport = this.ctx.transport();
    if (!runId || !transport) return;
    panel.busy = true;
    try {
      await request(transport, runId);
    } catch (err) {
      this.ctx.failed(panel, action, err);
    } finally {
      panel.busy = false;
    }
  }

  /** Elapsed since the run began, not since this page attached. */
  private async clockFrom(panel: P, runId: string): Promise<void> {
    const at = await this.ctx.startedAt(runId).catch(() => null);
    if (at !== null && panel.runId === runId && panel.durationMs === 0 && isLive(panel.status)) {
      panel.liveSince = at;
    }
  }
}
