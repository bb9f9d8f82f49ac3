/** A failure the built-in model plays out on upcoming chat requests. */
export type Fault =
  /** HTTP error JSON in OpenAI's error shape, before the first piece; `times` requests (default 1). */
  | { kind: 'status'; status: 429 | 500 | 503 | 401 | 400; retryAfterSeconds?: number; times?: number }
  /** Destroy the socket mid-stream after this many content pieces. */
  | { kind: 'drop'; afterPieces: number }
  /** Stop sending after this many pieces, keeping the socket open until the client gives up. */
  | { kind: 'stall'; afterPieces: number };

const STATUSES = new Set([429, 500, 503, 401, 400]);

/** Faults waiting for requests, oldest first; each request takes at most one. */
export class FaultQueue {
  private readonly queue: Fault[] = [];

  /** Queues a fault for the next chat request(s). */
  push(f: Fault): void {
    this.queue.push(f.kind === 'status' ? { ...f, times: f.times ?? 1 } : { ...f });
  }

  /** The fault for the request arriving now, if any. */
  take(): Fault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    if (head.kind === 'status' && (head.times ?? 1) > 1) {
      head.times = (head.times ?? 1) - 1;
      return { ...head, times: 1 };
    }
    return this.queue.shift();
  }

  get size(): number {
    return this.queue.length;
  }
}

/**
 * Parses a fault spec for manual testing, e.g. `BUILTIN_MODEL_FAULT=429x2r3,drop@20,stall@5`:
 * `<status>[x<times>][r<retryAfterSeconds>]`, `drop@<pieces>`, `stall@<pieces>`, comma-separated.
 * Throws on anything else so a typo is not silently ignored.
 */
export function parseFaultSpec(spec: string): Fault[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((token): Fault => {
      const status = /^(\d{3})(?:x(\d+))?(?:r(\d+))?$/.exec(token);
      if (status && STATUSES.has(Number(status[1]))) {
        const fault: Fault = {
          kind: 'status',
          status: Number(status[1]) as 429,
          times: Number(status[2] ?? 1),
        };
        if (status[3] !== undefined) fault.retryAfterSeconds = Number(status[3]);
        return fault;
      }
      const mid = /^(drop|stall)@(\d+)$/.exec(token);
      if (mid) return { kind: mid[1] as 'drop' | 'stall', afterPieces: Number(mid[2]) };
      throw new Error(`unknown fault "${token}": use e.g. 429x2r3, 500, 503, drop@20, stall@5`);
    });
}
