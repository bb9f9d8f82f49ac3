import { describe, expect, it } from 'vitest';
import { isValidMinuteTime } from './is-valid-minute-time.js';

describe('isValidMinuteTime', () => {
  it.each(['2026-01-15 10:00', '2026-12-31 23:59', '2024-02-29 00:00', '2000-02-29 12:30'])(
    'accepts %s',
    (t) => {
      expect(isValidMinuteTime(t)).toBe(true);
    },
  );

  it.each([
    '2026-02-30 10:00',
    '2026-02-29 10:00',
    '1900-02-29 10:00',
    '2026-04-31 10:00',
    '2026-13-01 10:00',
    '2026-00-10 10:00',
    '2026-01-00 10:00',
    '2026-01-15 25:00',
    '2026-01-15 24:00',
    '2026-01-15 10:60',
    '2026-1-15 10:00',
    '2026-01-15T10:00',
    '2026-01-15 10:00:00',
    '2026/01/15 10:00',
    '',
  ])('rejects %j', (t) => {
    expect(isValidMinuteTime(t)).toBe(false);
  });
});
