/** A tiny listener set: `add` returns the function that removes the listener. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  get size(): number {
    return this.set.size;
  }

  add(cb: (value: T) => void): () => void {
    this.set.add(cb);
    return () => this.set.delete(cb);
  }

  /** Calls every listener; one throwing does not stop the others. */
  emit(value: T): void {
    for (const cb of [...this.set]) {
      try {
        cb(value);
      } catch (err) {
        // A consumer's bug must not break the stream; report it where the platform reports.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
