import { fullJitterDelay, type BackoffOptions } from '@app/shared/client';

/**
 * Delays between WebSocket probes after a fallback: full jitter, uniform in [0, cap), the cap starting at
 * 8 s and doubling per failed probe or fallback up to 5 min, so pages that fell back together (a proxy
 * restart) do not all probe at the same moment.
 */
export const REPROBE_BACKOFF: Required<BackoffOptions> = { baseMs: 8_000, maxMs: 300_000 };

/** Settings of a {@link WsReprobe}. */
export interface ReprobeOptions {
  /** One probe: does WebSocket work now? */
  probe(): Promise<boolean>;
  /** Requests are in flight on the current transport: they finish there, so wait. */
  busy(): boolean;
  /** A probe found WebSocket working. */
  found(): void;
  random?: () => number;
  backoff?: BackoffOptions;
}

/**
 * While the board is on SSE after a fallback, tests WebSocket now and then. The attempt count is kept
 * across fallbacks, so a link that keeps failing is probed less and less often instead of flapping.
 */
export class WsReprobe {
  /** Attempts so far: each probe that failed and each fallback after the first. */
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by stop(): a probe in flight from an earlier round must not act. */
  private round = 0;

  constructor(private readonly opts: ReprobeOptions) {}

  /** Starts probing (after a fallback). */
  start(): void {
    this.stop();
    this.schedule(this.attempt++);
  }

  /** Stops probing (WebSocket taken back, or the board closed). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.round++;
  }

  /** The exponent of the next delay's cap. */
  get attempts(): number {
    return this.attempt;
  }

  private schedule(attempt: number): void {
    const delay = fullJitterDelay(attempt, this.opts.backoff ?? REPROBE_BACKOFF, this.opts.random);
    const round = this.round;
    this.timer = setTimeout(() => void this.run(attempt, round), delay);
  }

  private async run(attempt: number, round: number): Promise<void> {
    this.timer = null;
    // Waiting for requests in flight is not a failure: the same attempt draws a new delay.
    if (this.opts.busy()) return this.schedule(attempt);
    const works = await this.opts.probe();
    if (round !== this.round) return;
    if (!works) return this.schedule(this.attempt++);
    if (this.opts.busy()) return this.schedule(attempt);
    this.round++;
    this.opts.found();
  }
}
