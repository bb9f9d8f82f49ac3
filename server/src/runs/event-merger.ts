import type { ExtractedEvent } from '@app/shared';
import { SESSION_GAP_MIN } from '../llm/chunk-plan.js';

const minutes = (ts: string): number => Date.parse(`${ts.replace(' ', 'T')}:00Z`) / 60_000;

/** What adding an event did: the event to show now, and the earlier events (by line) it replaces. */
export interface Merged {
  event: ExtractedEvent;
  /** Line numbers of earlier events folded into `event`; empty when nothing was merged. */
  replaces: number[];
}

/**
 * The current set of a run's events, one owner for merges across chunk boundaries. An event from a
 * later chunk is one with an earlier event when both are of one type and either cite a behaviour in
 * common (two chunks saw it) or meet at a chunk boundary inside one session (the planner cuts inside a
 * session only when the session alone is over the budget, so such a cut split one event in two). The merged event cites both events' behaviours, spans both, and takes the new line's number.
 */
export class EventMerger {
  private readonly live = new Map<number, ExtractedEvent>();
  /** Chunk each live event came from: only events of earlier chunks are merged into. */
  private readonly chunkOf = new Map<number, number>();
  /** Behaviour id → line of the live event citing it. */
  private readonly citedBy = new Map<string, number>();
  /** Position of each behaviour in the run's history: merged ids keep history order. */
  private readonly order: Map<string, number>;
  /** Last behaviour of each chunk but the final one → first behaviour of the next. */
  private readonly boundaries = new Map<string, string>();

  constructor(behaviourIds: readonly string[], chunkSizes: readonly number[] = []) {
    this.order = new Map(behaviourIds.map((id, i) => [id, i]));
    let at = 0;
    for (const n of chunkSizes.slice(0, -1)) {
      at += n;
      const before = behaviourIds[at - 1];
      const after = behaviourIds[at];
      if (before !== undefined && after !== undefined) this.boundaries.set(before, after);
    }
  }

  /** Events live now, by line. */
  get events(): ExtractedEvent[] {
    return [...this.live.values()].sort((a, b) => a.lineNo - b.lineNo);
  }

  /** Adds an event of chunk `chunk` (1-based); events of one chunk are the model's own, never merged. */
  add(e: ExtractedEvent, chunk: number): Merged {
    const partners = new Set<number>();
    const earlier = (line: number) => (this.chunkOf.get(line) ?? chunk) < chunk;
    for (const id of e.sourceBehaviorIds) {
      const line = this.citedBy.get(id);
      if (line !== undefined && earlier(line) && this.live.get(line)!.eventType === e.eventType)
        partners.add(line);
    }
    for (const [line, f] of this.live) if (earlier(line) && this.meetAtBoundary(f, e)) partners.add(line);
    let merged = e;
    for (const line of partners) merged = this.join(this.live.get(line)!, merged);
    const replaces = [...partners].sort((a, b) => a - b);
    this.restore(merged, replaces, chunk);
    return { event: merged, replaces };
  }

  /** Applies a merge as the log recorded it (a run read back from storage replays its event frames). */
  restore(e: ExtractedEvent, replaces: readonly number[], chunk: number): void {
    for (const line of replaces) this.remove(line);
    this.live.set(e.lineNo, e);
    this.chunkOf.set(e.lineNo, chunk);
    for (const id of e.sourceBehaviorIds) this.citedBy.set(id, e.lineNo);
  }

  private remove(line: number): void {
    const f = this.live.get(line);
    if (!f) return;
    this.live.delete(line);
    this.chunkOf.delete(line);
    for (const id of f.sourceBehaviorIds) if (this.citedBy.get(id) === line) this.citedBy.delete(id);
  }

  private meetAtBoundary(f: ExtractedEvent, e: ExtractedEvent): boolean {
    if (f.eventType !== e.eventType || minutes(e.startTime) - minutes(f.endTime) >= SESSION_GAP_MIN)
      return false;
    const ends = (x: ExtractedEvent) => this.sorted(x.sourceBehaviorIds);
    const last = ends(f).at(-1);
    const first = ends(e)[0];
    return last !== undefined && first !== undefined && this.boundaries.get(last) === first;
  }

  private sorted(ids: readonly string[]): string[] {
    return [...ids].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
  }

  private join(f: ExtractedEvent, e: ExtractedEvent): ExtractedEvent {
    const ids = this.sorted([...new Set([...f.sourceBehaviorIds, ...e.sourceBehaviorIds])]);
    return {
      ...e,
      startTime: f.startTime < e.startTime ? f.startTime : e.startTime,
      endTime: f.endTime > e.endTime ? f.endTime : e.endTime,
      sourceBehaviorIds: ids,
      // The summary of the side that cited more behaviours says more of the whole.
      summary: f.sourceBehaviorIds.length > e.sourceBehaviorIds.length ? f.summary : e.summary,
    };
  }
}
