import type { RunFrame } from '@app/shared';
import { applyFrame, createRunView, type RunView } from '@app/shared/client';
import type { PanelStatus } from '../status';
import { TextLog } from './text-log';
import type { Transport } from './transport';

/** Frames of a run we do not know yet (its start ack is on the way) are kept this long. */
const ORPHAN_LIMIT = 5000;

/** A run view with its model text also kept in chunks, so a panel reads only what is new. */
export interface PanelView extends RunView {
  textLog: TextLog;
}

/** An empty {@link PanelView} of a run. */
export const createPanelView = (runId: string): PanelView => ({
  ...createRunView(runId),
  textLog: new TextLog(),
});

/** The part of a panel that shows a run. */
export interface RunPanel {
  runId: string | null;
  view: PanelView | null;
  status: PanelStatus;
  /** Forgets the shown run and shows `status`. */
  clear(status: PanelStatus): void;
}

/** What {@link PanelRuns} needs from the board. */
export interface PanelRunsContext<P> {
  transport(): Transport | null;
  /** The panel's view changed (frames applied, or a new view). */
  changed(panel: P): void;
}

/**
 * Which run each panel shows: frames are folded into their panel's view as they arrive, and frames of a
 * run whose panel is not known yet (its start's answer is on the way) wait for it.
 */
export class PanelRuns<P extends RunPanel> {
  private readonly byRun = new Map<string, P>();
  private readonly orphans = new Map<string, RunFrame[]>();

  constructor(private readonly ctx: PanelRunsContext<P>) {}

  /** The panel shows `runId` from an empty view; frames that came before are applied now. */
  attach(panel: P, runId: string): void {
    panel.clear(panel.status);
    panel.runId = runId;
    panel.view = createPanelView(runId);
    this.byRun.set(runId, panel);
    this.ctx.changed(panel);
    const early = this.orphans.get(runId);
    this.orphans.delete(runId);
    if (early) for (const f of early) this.frame(f);
  }

  /** The panel stops showing its run (the run goes on on the server). */
  detach(panel: P): void {
    const runId = panel.runId;
    if (!runId) return;
    this.byRun.delete(runId);
    this.ctx.transport()?.unwatch(runId);
    panel.runId = null;
    panel.view = null;
  }

  frame(f: RunFrame): void {
    const panel = this.byRun.get(f.runId);
    if (!panel?.view) {
      const list = this.orphans.get(f.runId) ?? [];
      if (list.length < ORPHAN_LIMIT) list.push(f);
      this.orphans.set(f.runId, list);
      return;
    }
    if (!applyFrame(panel.view, f)) return;
    if (f.type === 'llm_chunk') panel.view.textLog.append(f.content);
    this.ctx.changed(panel);
  }

  /** The run's log restarts from seq 1: its view is rebuilt from the replay. */
  reset(runId: string): void {
    const panel = this.byRun.get(runId);
    if (panel) this.rebuild(panel, runId);
  }

  /** An empty view of the panel's run, for a replay from seq 1. */
  rebuild(panel: P, runId: string): void {
    panel.view = createPanelView(runId);
    this.ctx.changed(panel);
  }
}
