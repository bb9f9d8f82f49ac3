import type { ExtractedEvent } from '../domain.js';
import { LineSplitter } from './line-splitter.js';
import {
  rejectLine,
  validateEventLine,
  type ParsedLine,
  type ValidationContext,
} from './validate-event-line.js';

/** Options of {@link EventLineParser}. */
export interface EventLineParserOptions {
  /** Number given to the first line; default 1. */
  startLineNo?: number;
  /**
   * Lines known to have been cut off mid-way (a cancel or crash settled them as `cut_off`): rebuilding
   * from stored text, they are rejected again instead of being validated as if the model finished them.
   */
  cutOffLines?: ReadonlySet<number>;
}

/** Identity of an event for duplicate detection: type, times and the set of cited ids. */
const eventKey = (e: ExtractedEvent): string =>
  JSON.stringify([e.eventType, e.startTime, e.endTime, [...e.sourceBehaviorIds].sort()]);

/**
 * Incremental parser of streamed model output: feed chunks as they arrive, get one {@link ParsedLine}
 * per completed line. Results do not depend on how the text is split into chunks.
 */
export class EventLineParser {
  readonly #ctx: ValidationContext;
  readonly #splitter = new LineSplitter();
  readonly #covered = new Set<string>();
  // Key of each accepted event → its line number, for duplicate detection.
  readonly #seenKeys = new Map<string, number>();
  readonly #cutOffLines: ReadonlySet<number>;
  #nextLineNo: number;
  #completed = 0;

  constructor(ctx: ValidationContext, opts: EventLineParserOptions = {}) {
    this.#ctx = ctx;
    this.#nextLineNo = opts.startLineNo ?? 1;
    this.#cutOffLines = opts.cutOffLines ?? new Set();
  }

  /** Builds a parser already fed with `text` (e.g. a stored run's text); the unterminated tail stays pending. */
  static fromText(
    ctx: ValidationContext,
    text: string,
    opts?: EventLineParserOptions,
  ): { parser: EventLineParser; results: ParsedLine[] } {
    const parser = new EventLineParser(ctx, opts);
    return { parser, results: parser.replay(text) };
  }

  /** Feeds text produced earlier and returns its results; same as {@link push}, named for resume code. */
  replay(text: string): ParsedLine[] {
    return this.push(text);
  }

  /** Feeds a chunk; returns results only for the lines this chunk completed. */
  push(chunk: string): ParsedLine[] {
    return this.#splitter.push(chunk).map((line) => this.#accept(line));
  }

  /**
   * Settles the unterminated last line, if any: validated normally, or rejected as `cut_off`
   * when `cutOff` is set (the stream stopped mid-line). Blank tails give `blank` either way.
   */
  end(opts: { cutOff?: boolean } = {}): ParsedLine[] {
    const tail = this.#splitter.flush();
    if (tail === null) return [];
    if (opts.cutOff && tail.trim() !== '') return [cutOff(this.#take(), tail)];
    return [this.#accept(tail)];
  }

  /** Number of the last completed line (lines completed so far when numbering starts at 1). */
  get lineNo(): number {
    return this.#nextLineNo - 1;
  }

  /** How many lines this parser has completed, whatever the start number. */
  get linesCompleted(): number {
    return this.#completed;
  }

  /** The unterminated text after the last line break. */
  get pending(): string {
    return this.#splitter.pending;
  }

  /** Behaviour ids cited by valid events so far. */
  get covered(): ReadonlySet<string> {
    return this.#covered;
  }

  /** Share (0–100, one decimal) of `total` behaviours cited by valid events; 0 when total is 0. */
  percent(total: number): number {
    if (!(total > 0)) return 0;
    const value = Math.round((this.#covered.size / total) * 1000) / 10;
    return Math.min(100, Math.max(0, value));
  }

  /** True when an event identical to `e` (type, times, cited id set) was already accepted. */
  seen(e: ExtractedEvent): boolean {
    return this.#seenKeys.has(eventKey(e));
  }

  #take(): number {
    this.#completed += 1;
    return this.#nextLineNo++;
  }

  #accept(text: string): ParsedLine {
    const lineNo = this.#take();
    if (this.#cutOffLines.has(lineNo)) return cutOff(lineNo, text);
    const result = validateEventLine(text, lineNo, this.#ctx);
    if (result.kind !== 'event') return result;
    const { event } = result;
    const key = eventKey(event);
    const firstLineNo = this.#seenKeys.get(key);
    if (firstLineNo !== undefined) {
      const what = `${event.eventType} ${event.startTime}–${event.endTime}`;
      return rejectLine(lineNo, text.trim(), 'duplicate', `与第 ${firstLineNo} 行的事件重复：${what}`);
    }
    this.#seenKeys.set(key, lineNo);
    for (const id of event.sourceBehaviorIds) this.#covered.add(id);
    return result;
  }
}

function cutOff(lineNo: number, text: string): ParsedLine {
  return rejectLine(lineNo, text.trim(), 'cut_off', `第 ${lineNo} 行在输出中途被截断，未完成`);
}
