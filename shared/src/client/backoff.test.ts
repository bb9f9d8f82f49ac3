import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, fullJitterDelay } from './backoff.js';

describe('fullJitterDelay', () => {
  it('spans [0, min(max, base·2^attempt)) and grows with the attempt', () => {
    const opts = { baseMs: 100, maxMs: 5_000 };
    const top = (a: number) => fullJitterDelay(a, opts, () => 0.999999);
    expect(fullJitterDelay(0, opts, () => 0)).toBe(0);
    expect(top(0)).toBe(99);
    expect(top(1)).toBe(199);
    expect(top(3)).toBe(799);
    expect(top(6)).toBe(4_999);
    expect(top(60)).toBe(4_999);
    expect(fullJitterDelay(2, opts, () => 0.5)).toBe(200);
  });

  it('stays within bounds for many random draws and absurd attempts', () => {
    for (let a = 0; a < 2_000; a++) {
      const d = fullJitterDelay(a % 100, {}, Math.random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(DEFAULT_BACKOFF.maxMs);
      expect(Number.isInteger(d)).toBe(true);
    }
    expect(fullJitterDelay(1e9, { baseMs: 1, maxMs: 10 }, () => 0.5)).toBe(5);
    expect(fullJitterDelay(-3, { baseMs: 8, maxMs: 10 }, () => 0.5)).toBe(4);
  });
});
