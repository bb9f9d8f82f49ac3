import { describe, expect, it } from 'vitest';
import { clampConcurrency } from './limits';

describe('clampConcurrency', () => {
  it("keeps a batch's concurrency within 1 and the server's limit", () => {
    expect(clampConcurrency(8, 2)).toBe(2);
    expect(clampConcurrency(0, 2)).toBe(1);
    expect(clampConcurrency(3.7, 8)).toBe(3);
    expect(clampConcurrency(Number.NaN, 8)).toBe(1);
    // Before the server has said its limit, any positive number stands.
    expect(clampConcurrency(12, null)).toBe(12);
  });
});
