/** Where streamed text goes: one block per line, the last one still being written. */
export interface LineSink {
  /** Appends to the line being written (starting one if there is none). */
  append(text: string): void;
  /** The line being written is finished: the next text starts a new one. */
  endLine(): void;
  /** Removes every line. */
  clear(): void;
}

/**
 * Feeds growing model text to a {@link LineSink}, only what is new since the last update, cut at line
 * ends, so each animation frame costs the new characters rather than the whole text. A run view's text
 * only grows; a new `epoch` (a new view: another run, a replay) starts over.
 */
export class TextAppender {
  private length = 0;
  private epoch: unknown = undefined;

  constructor(private readonly sink: LineSink) {}

  /** Shows `text`; false when nothing changed. */
  update(text: string, epoch: unknown): boolean {
    if (epoch !== this.epoch || text.length < this.length) {
      this.epoch = epoch;
      this.length = 0;
      this.sink.clear();
    }
    if (text.length === this.length) return false;
    const fresh = text.slice(this.length);
    this.length = text.length;
    let start = 0;
    for (let nl = fresh.indexOf('\n'); nl !== -1; nl = fresh.indexOf('\n', start)) {
      // The line keeps its "\n", so the element's textContent is the text exactly.
      this.sink.append(fresh.slice(start, nl + 1));
      this.sink.endLine();
      start = nl + 1;
    }
    if (start < fresh.length) this.sink.append(fresh.slice(start));
    return true;
  }
}

/** A {@link LineSink} over an element: a block `<span class="line">` per line, text appended in place. */
export function lineElements(root: HTMLElement): LineSink {
  let current: Text | null = null;
  return {
    append(text) {
      if (!current) {
        const line = document.createElement('span');
        line.className = 'line';
        current = document.createTextNode('');
        line.append(current);
        root.append(line);
      }
      current.appendData(text);
    },
    endLine() {
      current = null;
    },
    clear() {
      root.replaceChildren();
      current = null;
    },
  };
}
