import { describe, expect, it } from 'vitest';
import { isSavedBoard } from './saved-board';
import { formatElapsed, formatTimeRange } from './format';

describe('saved board', () => {
  it('accepts what the board writes and rejects anything else', () => {
    expect(
      isSavedBoard({
        panels: [{ userId: 'u1', name: null, runId: 'run_abcdef', queued: 4 }],
        columns: 0,
        concurrency: 4,
      }),
    ).toBe(true);
    expect(
      isSavedBoard({ panels: [{ userId: 'u1', name: null, runId: null }], columns: 2, concurrency: 1 }),
    ).toBe(true);
    expect(isSavedBoard({ panels: [{ name: 'x' }] })).toBe(false);
    expect(isSavedBoard({ panels: [null] })).toBe(false);
    expect(isSavedBoard('[]')).toBe(false);
  });
});

describe('format', () => {
  it('formats elapsed time and event time ranges', () => {
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(75_400)).toBe('1:15');
    expect(formatElapsed(3_725_000)).toBe('1:02:05');
    expect(formatTimeRange('2026-01-22 08:10', '2026-01-22 08:32')).toBe('01-22 08:10–08:32');
    expect(formatTimeRange('2026-01-22 08:10', '2026-01-22 08:10')).toBe('01-22 08:10');
    expect(formatTimeRange('2026-01-22 23:50', '2026-01-23 00:10')).toBe('01-22 23:50 – 01-23 00:10');
  });
});
