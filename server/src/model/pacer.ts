import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';

/** How fast pieces come out. `piecesPerSecond` 0 (or huge) means as fast as possible. */
export interface Pace {
  piecesPerSecond: number;
  firstPieceDelayMs: number;
}

/** What a {@link Pacer} drives. */
export interface PacerOptions {
  count: number;
  /** Read before every piece, so a pace change applies to in-flight responses. */
  pace: () => Pace;
  /** Sends piece `i`; false means the writable is full and the pacer waits for 'drain'. */
  step: (i: number) => boolean;
  /** Where to wait for 'drain'; omitted when steps never return false. */
  out?: Writable;
  /** Stop before piece `cutAt` (a fault) instead of finishing; `count` cuts just before the finish. */
  cutAt?: number;
  onCut: (sent: number) => void;
  onDone: () => void;
}

/** Pieces sent back-to-back before yielding to the event loop. */
const BURST = 32;

/**
 * Emits pieces on schedule: piece i is due one gap after piece i-1 was due (the first after
 * firstPieceDelayMs), so a late timer catches up instead of drifting. stop() cancels everything.
 */
export class Pacer {
  private next = 0;
  private lastDue: number;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopped = false;

  constructor(private readonly o: PacerOptions) {
    this.lastDue = performance.now();
  }

  /** Pieces handed to step() so far. */
  get sent(): number {
    return this.next;
  }

  start(): void {
    this.tick();
  }

  /** Re-evaluates a pending wait after the pace changed. */
  repace(): void {
    if (this.timer === null || this.stopped) return;
    clearTimeout(this.timer);
    this.tick();
  }

  /** Cancels every timer and listener at once. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = null;
    this.o.out?.off('drain', this.tick);
  }

  private gap(): number {
    const p = this.o.pace();
    if (this.next === 0) return Math.max(0, p.firstPieceDelayMs);
    return p.piecesPerSecond > 0 ? 1000 / p.piecesPerSecond : 0;
  }

  private readonly tick = (): void => {
    this.timer = this.immediate = null;
    if (this.stopped) return;
    const cutAt = this.o.cutAt === undefined ? undefined : Math.min(this.o.cutAt, this.o.count);
    for (let burst = 0; ; burst++) {
      if (this.next === cutAt) {
        this.stop();
        this.o.onCut(this.next);
        return;
      }
      if (this.next >= this.o.count) {
        this.stop();
        this.o.onDone();
        return;
      }
      const due = this.lastDue + this.gap();
      const wait = due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(this.tick, wait);
        return;
      }
      // Yield now and then so "as fast as possible" never starves other sockets and timers.
      if (burst >= BURST) {
        this.immediate = setImmediate(this.tick);
        return;
      }
      this.lastDue = due;
      if (!this.o.step(this.next++) && this.o.out) {
        this.o.out.once('drain', this.tick);
        return;
      }
    }
  };
}
