/** Settings of {@link fullJitterDelay}. */
export interface BackoffOptions {
  /** Delay cap of the first retry, ms. */
  baseMs?: number;
  /** Largest delay, ms. */
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 250, maxMs: 10_000 } as const;

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(maxMs, baseMs·2^attempt)).
 * Spreading reconnects over the whole window keeps many clients from reconnecting in step.
 * `attempt` counts from 0; `random` returns [0, 1) like Math.random.
 */
export function fullJitterDelay(
  attempt: number,
  opts: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = opts.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = opts.maxMs ?? DEFAULT_BACKOFF.maxMs;
  // Cap the exponent so 2^attempt cannot overflow to Infinity on a long outage.
  const cap = Math.min(max, base * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * cap);
}
