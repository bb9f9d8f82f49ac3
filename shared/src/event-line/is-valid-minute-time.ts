import { MINUTE_TIME_RE } from '../domain.js';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeapYear = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** True when `value` is `YYYY-MM-DD HH:mm` and names a real calendar date and time of day. */
export function isValidMinuteTime(value: string): boolean {
  if (!MINUTE_TIME_RE.test(value)) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0] = value.split(/[- :]/).map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59) return false;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day <= maxDay;
}
