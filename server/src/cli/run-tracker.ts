import { isTerminalFrame, type RunFrame } from '@app/shared';
import { applyFrame, createRunView, type RunView, type StreamClient } from '@app/shared/client';

interface Tracked {
  view: RunView;
  /** Frames that came before anyone followed the run (a start's frames can beat its promise). */
  backlog: RunFrame[];
  onFrame?: (f: RunFrame, view: RunView) => void;
  /** The run is over at a terminal frame with at least this seq (earlier ones were resumed past). */
  finalFrom: number;
  settle?: (view: RunView) => void;
}

/** Folds every frame the client delivers into a view per run, and tells when a followed run settles. */
export class RunTracker {
  private readonly runs = new Map<string, Tracked>();

  constructor(client: StreamClient) {
    client.onFrame((f) => this.frame(f));
    client.onReset((runId) => {
      const t = this.runs.get(runId);
      if (!t) return;
      process.stderr.write(`\n… the server lost part of ${runId}'s log; replaying it from the start\n`);
      t.view = createRunView(runId);
    });
  }

  /**
   * Calls `onFrame` for each frame of the run (those already received first) and resolves with the
   * view once the run has settled: a terminal frame with seq ≥ `finalFrom`.
   */
  follow(runId: string, onFrame: (f: RunFrame, view: RunView) => void, finalFrom = 0): Promise<RunView> {
    const t = this.get(runId);
    t.finalFrom = finalFrom;
    t.onFrame = onFrame;
    return new Promise((resolve) => {
      t.settle = resolve;
      const backlog = t.backlog;
      t.backlog = [];
      for (const f of backlog) this.handle(t, f);
    });
  }

  view(runId: string): RunView {
    return this.get(runId).view;
  }

  private frame(f: RunFrame): void {
    const t = this.get(f.runId);
    if (!applyFrame(t.view, f)) return;
    if (t.onFrame) this.handle(t, f);
    else t.backlog.push(f);
  }

  private handle(t: Tracked, f: RunFrame): void {
    t.onFrame?.(f, t.view);
    if (isTerminalFrame(f) && f.seq >= t.finalFrom) t.settle?.(t.view);
  }

  private get(runId: string): Tracked {
    let t = this.runs.get(runId);
    if (!t) this.runs.set(runId, (t = { view: createRunView(runId), backlog: [], finalFrom: 0 }));
    return t;
  }
}
