import type { TextSource } from '$lib/board/text-log';

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

  /** Shows `text` (a string, or a source read from where it was last read); false when nothing changed. */
  update(text: string | TextSource, epoch: unknown): boolean {
    if (epoch !== this.epoch || text.length < this.length) {
      this.epoch = epoch;
      this.length = 0;
      this.sink.clear();
    }
    if (text.length === this.length) return false;
    const fresh = typeof text === 'string' ? text.slice(this.length) : text.since(this.length);
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

/** Lines per block: blocks out of view are skipped by layout and paint (`content-visibility: auto`). */
export const LINES_PER_BLOCK = 64;

/**
 * A {@link LineSink} over an element: a block `<span class="line">` per line, text appended in place, the
 * lines grouped in `<div class="block">`s of {@link LINES_PER_BLOCK}, so a frame lays out and paints the
 * blocks in view, not every line of a long run's text.
 */
export function lineElements(root: HTMLElement): LineSink {
  let current: Text | null = null;
  let block: HTMLElement | null = null;
  let lines = 0;
  return {
    append(text) {
      if (!current) {
        if (!block || lines === LINES_PER_BLOCK) {
          block = document.createElement('div');
          block.className = 'block';
          root.append(block);
          lines = 0;
        }
        const line = document.createElement('span');
        line.className = 'line';
        current = document.createTextNode('');
        line.append(current);
        block.append(line);
        lines++;
      }
      current.appendData(text);
    },
    endLine() {
      current = null;
    },
    clear() {
      root.replaceChildren();
      current = null;
      block = null;
      lines = 0;
    },
  };
}
