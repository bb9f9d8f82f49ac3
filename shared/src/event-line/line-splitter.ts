/**
 * Turns string chunks into complete lines. Lines end at `\n`; a `\r` right before it (CRLF), or at the very
 * end of the flushed tail, is dropped. A chunk ending in `\r` is safe: the `\r` stays in the tail until `\n`.
 */
export class LineSplitter {
  #tail = '';

  /** Feeds a chunk; returns the lines it completed (without terminators) and keeps the partial tail. */
  push(chunk: string): string[] {
    // Without a line break only the tail grows; skipping the split keeps long lines linear.
    if (!chunk.includes('\n')) {
      this.#tail += chunk;
      return [];
    }
    const parts = (this.#tail + chunk).split('\n');
    this.#tail = parts.pop() ?? '';
    return parts.map(stripCr);
  }

  /** Returns the unterminated tail (or null when there is none) and resets it. */
  flush(): string | null {
    const tail = this.#tail;
    this.#tail = '';
    return tail === '' ? null : stripCr(tail);
  }

  /** The current partial tail, as received. */
  get pending(): string {
    return this.#tail;
  }
}

const stripCr = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);
