/** Where new text can be read from by offset, without touching what came before. */
export interface TextSource {
  readonly length: number;
  /** The text from `offset` (a length seen before) to the end. */
  since(offset: number): string;
}

/** Characters joined into one chunk: few chunks to search, and the open one is cheap to join on a read. */
const CHUNK_CHARS = 4096;

/**
 * A run's model text as it streams, kept in chunks so that reading what is new costs what is new. A
 * string grown with `+=` is a rope that V8 flattens (copies whole) on the first `slice`, so slicing the
 * new end off a 300 KB text every animation frame would cost the whole text every frame.
 */
export class TextLog implements TextSource {
  private readonly chunks: string[] = [];
  /** Offset of each chunk's first character. */
  private readonly starts: number[] = [];
  private pending: string[] = [];
  private pendingStart = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  append(piece: string): void {
    if (!piece) return;
    this.pending.push(piece);
    this.size += piece.length;
    if (this.size - this.pendingStart >= CHUNK_CHARS) {
      this.chunks.push(this.pending.join(''));
      this.starts.push(this.pendingStart);
      this.pending = [];
      this.pendingStart = this.size;
    }
  }

  since(offset: number): string {
    if (offset >= this.size) return '';
    const parts: string[] = [];
    if (offset < this.pendingStart) {
      let i = this.chunkAt(offset);
      parts.push(this.chunks[i]!.slice(offset - this.starts[i]!));
      for (i++; i < this.chunks.length; i++) parts.push(this.chunks[i]!);
      parts.push(...this.pending);
    } else {
      parts.push(this.pending.join('').slice(offset - this.pendingStart));
    }
    return parts.join('');
  }

  /** Index of the chunk holding `offset` (binary search over the chunks' starts). */
  private chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
