/**
 * The batch queue: items wait in order, each with the most runs that may be live when it starts
 * (its batch's concurrency, or the server's per-connection limit for a single start).
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

  /** Removes and returns, in order, the items that may start with `live` runs already going. */
  take(live: number): T[] {
    const started: T[] = [];
    const waiting: { item: T; limit: number }[] = [];
    for (const q of this.items) {
      if (live < q.limit) {
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
