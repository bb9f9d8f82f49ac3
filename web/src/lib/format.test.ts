import { describe, expect, it } from 'vitest';
import { formatElapsed, formatTimeRange } from './format';

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
