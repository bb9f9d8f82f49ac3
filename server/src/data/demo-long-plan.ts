import type { Behaviour } from '@app/shared';
import type { Rng } from './prng.js';

/**
 * Most behaviours a long demo user has on one day. A rendered behaviour line is 50–90 characters, so a
 * day stays well inside one 12,000-character prompt chunk and chunking never has to cut a day.
 */
export const LONG_DAY_CAP = 100;

/** Steps done in one sitting, as behaviours whose `id`, `userId` and `ts` are filled in later. */
export interface Session {
  steps: Behaviour[];
  /** A store visit happens in opening hours. */
  inStore: boolean;
}

const DAY_OPEN = 8 * 60; // online activity 08:00–22:59
const DAY_CLOSE = 23 * 60 - 1;
const STORE_OPEN = 10 * 60; // stores 10:00–18:00
const STORE_CLOSE = 18 * 60;
/** Sittings this far apart count as separate sessions (as the chunk planner sees them). */
const SESSION_GAP = 30;

/**
 * Spreads `total` over days in proportion to `weights`, never more than `caps[d]` on day d; days of
 * weight 0 get nothing. Throws when the days can't hold `total`.
 */
export function spreadCounts(total: number, weights: readonly number[], caps: readonly number[]): number[] {
  const counts = weights.map(() => 0);
  let remaining = total;
  while (remaining > 0) {
    const open = weights.map((w, i) => i).filter((i) => weights[i]! > 0 && counts[i]! < caps[i]!);
    if (open.length === 0) throw new Error(`${remaining} behaviours do not fit the days and the day cap`);
    const sum = open.reduce((s, i) => s + weights[i]!, 0);
    const shares = open.map((i) => ({ i, x: (remaining * weights[i]!) / sum }));
    let given = 0;
    for (const { i, x } of shares) {
      const add = Math.min(Math.floor(x), caps[i]! - counts[i]!);
      counts[i]! += add;
      given += add;
    }
    if (given === 0) {
      // Fewer left than open days: one each to the largest shares.
      shares.sort((a, b) => b.x - a.x || a.i - b.i);
      for (const { i } of shares.slice(0, remaining)) counts[i]! += 1;
      given = Math.min(remaining, shares.length);
    }
    remaining -= given;
  }
  return counts;
}

/** Minutes between the steps of a session: a click apart online, a conversation apart in a store. */
function stepGaps(rng: Rng, s: Session): number[] {
  const gaps = [0];
  for (let j = 1; j < s.steps.length; j++) gaps.push(s.inStore ? rng.int(10, 30) : rng.int(1, 4));
  return gaps;
}

/** Lays sessions out one after another in [from, to], with random idle time between them; sets `start`. */
function layOut(rng: Rng, items: { duration: number; start: number }[], from: number, to: number): void {
  const busy = items.reduce((n, x) => n + x.duration, 0);
  const free = to - from - busy;
  const between = Math.max(0, items.length - 1);
  const minGap = free >= SESSION_GAP * (between + 1) ? SESSION_GAP : free >= between ? 1 : 0;
  const spare = Math.max(0, free - minGap * between);
  const weights = items.map(() => rng.next());
  const sum = weights.reduce((a, b) => a + b, rng.next()) || 1;
  let t = from;
  items.forEach((x, i) => {
    t += (i === 0 ? 0 : minGap) + Math.floor((spare * weights[i]!) / sum);
    x.start = t;
    t += x.duration;
  });
}

/**
 * Gives one day's sessions their times: at most one store visit, within opening hours; online
 * sittings before and after it, apart from each other. The steps, each at its own minute, are
 * appended to `out` in time order.
 */
export function scheduleDay(rng: Rng, date: string, sessions: readonly Session[], out: Behaviour[]): void {
  const planned = sessions.map((s) => {
    const gaps = stepGaps(rng, s);
    return { s, gaps, duration: gaps.reduce((a, b) => a + b, 0), start: 0 };
  });
  const store = planned.filter((p) => p.s.inStore);
  if (store.length > 1) throw new Error(`${date}: at most one store visit a day`);
  const online = planned.filter((p) => !p.s.inStore);
  const visit = store[0];
  if (!visit) {
    layOut(rng, online, DAY_OPEN, DAY_CLOSE);
  } else {
    visit.start = rng.int(STORE_OPEN, Math.max(STORE_OPEN, STORE_CLOSE - visit.duration));
    const roomBefore = visit.start - 1 - DAY_OPEN;
    const roomAfter = DAY_CLOSE - (visit.start + visit.duration + 1);
    const before: typeof online = [];
    const after: typeof online = [];
    let usedBefore = 0;
    let usedAfter = 0;
    for (const p of online) {
      const fitsBefore = usedBefore + p.duration + 1 <= roomBefore;
      const fitsAfter = usedAfter + p.duration + 1 <= roomAfter;
      const goBefore = fitsBefore && (!fitsAfter || rng.chance(roomBefore / (roomBefore + roomAfter)));
      if (goBefore) {
        before.push(p);
        usedBefore += p.duration + 1;
      } else {
        after.push(p);
        usedAfter += p.duration + 1;
      }
    }
    layOut(rng, before, DAY_OPEN, visit.start - 1);
    layOut(rng, after, visit.start + visit.duration + 1, DAY_CLOSE);
  }
  for (const p of planned.sort((a, b) => a.start - b.start)) {
    let minute = p.start;
    for (let j = 0; j < p.s.steps.length; j++) {
      minute += p.gaps[j]!;
      const b = p.s.steps[j]!;
      b.ts = `${date} ${hhmm(minute)}`;
      out.push(b);
    }
  }
}

const two = (n: number) => String(n).padStart(2, '0');
/** `HH:mm` of every minute of a day, built once: a long history formats thousands of them. */
const CLOCK = Array.from({ length: 24 * 60 }, (_, m) => `${two(Math.floor(m / 60))}:${two(m % 60)}`);
const hhmm = (m: number): string => CLOCK[m]!;

/** The `count` days from `from` on: `YYYY-MM-DD` and weekday (0 Sunday … 6 Saturday). */
export function calendar(from: string, count: number): { date: string; weekday: number }[] {
  const day = new Date(`${from}T00:00:00Z`);
  const out: { date: string; weekday: number }[] = [];
  for (let i = 0; i < count; i++, day.setUTCDate(day.getUTCDate() + 1)) {
    out.push({ date: day.toISOString().slice(0, 10), weekday: day.getUTCDay() });
  }
  return out;
}
