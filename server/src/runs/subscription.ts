/** Where a subscription writes: a WebSocket or an SSE response. */
export interface FrameSink {
  /** Sends one encoded frame (the JSON text shared by every watcher). */
  send(json: string, seq: number): void;
  /** True while the transport holds more unsent bytes than its high-water mark. */
  congested(): boolean;
  /** Calls `cb` once when the transport can take more. */
  onDrain(cb: () => void): void;
  /** Holds writes until `uncork`, so several frames leave in one syscall. */
  cork(): void;
  uncork(): void;
}

/** The frames a subscription reads: a run's log, in memory. */
export interface FrameSource {
  /** JSON of frame `seq` (1-based), if it exists. */
  frameAt(seq: number): string | undefined;
  /** Frames up to here are committed to storage; a watcher never reads past it. */
  readonly committedSeq: number;
  /** True once no more frames will come unless the run is resumed, and all are committed. */
  readonly settled: boolean;
}

/**
 * A cursor over a run's log pushed into one sink. Live delivery and catch-up are the same code:
 * `pump` sends from the cursor to the end of the log while the sink keeps up, and when the sink is
 * congested it stops and waits for drain. A slow reader therefore costs the server one cursor, not a
 * queue, and a fast reader is never held back by it.
 */
export class Subscription {
  private waiting = false;
  private closed = false;
  private readonly resumePump = (): void => {
    this.waiting = false;
    this.pump();
  };

  constructor(
    readonly runId: string,
    private source: FrameSource,
    private readonly sink: FrameSink,
    /** Last seq the watcher already has. */
    public cursor: number,
    /** Called when the watcher has everything and the run has settled. */
    private readonly onSettled?: (sub: Subscription) => void,
  ) {}

  pump(): void {
    if (this.waiting || this.closed) return;
    const last = this.source.committedSeq;
    const corked = last - this.cursor > 1;
    if (corked) this.sink.cork();
    try {
      while (this.cursor < last) {
        if (this.sink.congested()) {
          this.waiting = true;
          this.sink.onDrain(this.resumePump);
          return;
        }
        const seq = this.cursor + 1;
        this.sink.send(this.source.frameAt(seq)!, seq);
        this.cursor = seq;
        if (this.closed) return;
      }
    } finally {
      if (corked) this.sink.uncork();
    }
    if (this.source.settled && this.onSettled) this.onSettled(this);
  }

  close(): void {
    this.closed = true;
  }

  /** Has every frame of a settled run, and waits for nothing: the run's log may leave memory. */
  get caughtUp(): boolean {
    return !this.waiting && this.source.settled && this.cursor >= this.source.committedSeq;
  }

  /** Lets go of the run's log (it left memory); `rebind` attaches the run read back from storage. */
  park(): void {
    this.source = { committedSeq: this.cursor, settled: true, frameAt: () => undefined };
  }

  rebind(source: FrameSource): void {
    this.source = source;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
