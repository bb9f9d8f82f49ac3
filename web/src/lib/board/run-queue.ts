import type { RunView } from '@app/shared/client';
import type { PanelStatus } from '../status';

/** The limit of a single start: as many live runs as the server allows. */
export const SERVER_LIMIT = Number.POSITIVE_INFINITY;

/**
 * The batch queue: items wait in order, each with the most runs that may be live when it starts
 * (its batch's concurrency, or {@link SERVER_LIMIT} for a single start).
 */
export class RunQueue<T> {
  private items: { item: T; limit: number }[] = [];

  get size(): number {
    return this.items.length;
  }

  has(item: T): boolean {
    return this.items.some((q) => q.item === item);
  }

  /** Appends (or, with `front`, prepends) unless already waiting. */
  add(item: T, limit: number, front = false): void {
    if (this.has(item)) return;
    if (front) this.items.unshift({ item, limit });
    else this.items.push({ item, limit });
  }

  remove(item: T): boolean {
    const before = this.items.length;
    this.items = this.items.filter((q) => q.item !== item);
    return this.items.length !== before;
  }

  /** 1-based place in the queue; 0 when not waiting. */
  position(item: T): number {
    return this.items.findIndex((q) => q.item === item) + 1;
  }

  limitOf(item: T): number | undefined {
    return this.items.find((q) => q.item === item)?.limit;
  }

  /**
   * Removes and returns, in order, the items that may start with `live` runs already going and at most
   * `cap` live at once (the server's limit), whatever their own limit says.
   */
  take(live: number, cap = SERVER_LIMIT): T[] {
    const started: T[] = [];
    const waiting: { item: T; limit: number }[] = [];
    for (const q of this.items) {
      if (live < Math.min(q.limit, cap)) {
        live++;
        started.push(q.item);
      } else waiting.push(q);
    }
    this.items = waiting;
    return started;
  }

  each(cb: (item: T, position: number) => void): void {
    this.items.forEach((q, i) => cb(q.item, i + 1));
  }
}

/** The part of a panel the queue shows its state in. */
export interface QueuedPanel {
  status: PanelStatus;
  /** 1-based place in the queue while queued, else 0. */
  queuePos: number;
  readonly view: RunView | null;
}

/** The run queue of board panels: a waiting panel shows `queued` and its place. */
export class PanelQueue<P extends QueuedPanel> {
  private readonly queue = new RunQueue<P>();

  has(panel: P): boolean {
    return this.queue.has(panel);
  }

  limitOf(panel: P): number | undefined {
    return this.queue.limitOf(panel);
  }

  add(panel: P, limit: number, front = false): void {
    if (this.queue.has(panel)) return;
    this.queue.add(panel, limit, front);
    panel.status = 'queued';
    this.renumber();
  }

  /** Takes a panel out of the queue; it shows its run's status again. False when it was not waiting. */
  remove(panel: P): boolean {
    if (!this.queue.remove(panel)) return false;
    panel.queuePos = 0;
    panel.status = panel.view ? panel.view.status : 'idle';
    this.renumber();
    return true;
  }

  /** The panels to start now, with `live` runs going and at most `cap` live at once. */
  take(live: number, cap: number): P[] {
    const started = this.queue.take(live, cap);
    for (const panel of started) panel.queuePos = 0;
    this.renumber();
    return started;
  }

  private renumber(): void {
    this.queue.each((panel, position) => (panel.queuePos = position));
  }
}
