import { describe, expect, it } from 'vitest';
import { BEHAVIOUR_ID_RE, EventLineParser, USER_ID_RE, type Behaviour } from '@app/shared';
import { buildPrompt } from '../llm/prompt.js';
import { deriveEventLines, minutesOf } from '../model/rules.js';
import { normaliseTs } from './import-rows.js';
import { LONG_DAY_CAP, spreadCounts } from './demo-long-plan.js';
import { generateLongDemoData } from './demo-long-users.js';

const data = generateLongDemoData();
const mine = (userId: string): Behaviour[] => data.behaviours.filter((b) => b.userId === userId);
const perDay = (bs: Behaviour[]): Map<string, Behaviour[]> => {
  const days = new Map<string, Behaviour[]>();
  for (const b of bs) {
    const day = b.ts.slice(0, 10);
    if (!days.has(day)) days.set(day, []);
    days.get(day)!.push(b);
  }
  return days;
};
const daysBetween = (a: string, b: string) => (minutesOf(`${b} 00:00`)! - minutesOf(`${a} 00:00`)!) / 1440;

describe('generateLongDemoData', () => {
  it('is deterministic', () => {
    expect(generateLongDemoData()).toEqual(data);
  });

  it('has user_0061…user_0063 with 300, 1,500 and 5,000 behaviours over three to six months', () => {
    expect(data.users.map((u) => u.id)).toEqual(['user_0061', 'user_0062', 'user_0063']);
    const span = (id: string) => {
      const ts = mine(id).map((b) => b.ts);
      return daysBetween(ts[0]!.slice(0, 10), ts[ts.length - 1]!.slice(0, 10));
    };
    expect(mine('user_0061')).toHaveLength(300);
    expect(mine('user_0062')).toHaveLength(1500);
    expect(mine('user_0063')).toHaveLength(5000);
    expect(span('user_0061')).toBeGreaterThanOrEqual(80);
    expect(span('user_0062')).toBeGreaterThanOrEqual(140);
    expect(span('user_0063')).toBeGreaterThanOrEqual(170);
    for (const u of data.users) {
      expect(u.id).toMatch(USER_ID_RE);
      expect(u.name).toBeTruthy();
      expect(u.profile).toMatchObject({ city: expect.any(String), budget: expect.stringContaining('万') });
    }
  });

  it('makes unique citeable ids (b0061-0001…) and valid, strictly increasing times', () => {
    expect(new Set(data.behaviours.map((b) => b.id)).size).toBe(data.behaviours.length);
    // Problems are collected, not asserted one by one: thousands of expects would be slow.
    const problems: string[] = [];
    for (const u of data.users) {
      mine(u.id).forEach((b, i, bs) => {
        const time = b.ts.slice(11);
        if (b.id !== `b${u.id.slice(5)}-${String(i + 1).padStart(4, '0')}`) problems.push(`${b.id}: id`);
        if (!BEHAVIOUR_ID_RE.test(b.id)) problems.push(`${b.id}: id pattern`);
        const norm = normaliseTs(b.ts);
        if (!('ts' in norm) || norm.ts !== b.ts) problems.push(`${b.id}: time ${b.ts}`);
        if (i > 0 && !(b.ts > bs[i - 1]!.ts)) problems.push(`${b.id}: not after ${bs[i - 1]!.id}`);
        if (time < '08:00' || time > '22:59') problems.push(`${b.id}: at night`);
        if (b.channel === 'store' && (time < '10:00' || time > '18:00'))
          problems.push(`${b.id}: store closed`);
      });
    }
    expect(problems).toEqual([]);
  });

  it('keeps every day within the day cap and within one 12,000-character prompt', () => {
    expect(LONG_DAY_CAP).toBeLessThanOrEqual(120);
    let busiest = 0;
    for (const u of data.users) {
      for (const [day, bs] of perDay(mine(u.id))) {
        expect(bs.length, `${u.id} ${day}`).toBeLessThanOrEqual(LONG_DAY_CAP);
        busiest = Math.max(busiest, bs.length);
        const prompt = buildPrompt({ user: u, behaviours: bs, budgetChars: 12_000 });
        expect(prompt.truncated, `${u.id} ${day}`).toBe(false);
      }
    }
    // The fleet account really has busy days: many sittings, not a thin spread.
    expect(busiest).toBeGreaterThanOrEqual(60);
  });

  it('tells realistic journeys: visits, test drives, quotes and orders, in order', () => {
    const count = (id: string, action: string) => mine(id).filter((b) => b.action === action).length;
    const first = (id: string, action: string) => mine(id).find((b) => b.action === action)!.ts;
    for (const id of ['user_0061', 'user_0062', 'user_0063']) {
      expect(count(id, '到店'), id).toBeGreaterThanOrEqual(3);
      expect(count(id, '试驾'), id).toBeGreaterThanOrEqual(3);
      expect(count(id, '询价'), id).toBeGreaterThanOrEqual(5);
      expect(first(id, '预约试驾') < first(id, '到店'), id).toBe(true);
      expect(first(id, '到店') < first(id, '支付定金'), id).toBe(true);
    }
    expect(count('user_0061', '下单')).toBe(1);
    expect(count('user_0063', '签约')).toBeGreaterThanOrEqual(4);
    expect(count('user_0063', '提车')).toBe(count('user_0063', '签约'));
    const fleetDays = [...perDay(mine('user_0063')).values()];
    expect(fleetDays.length).toBeGreaterThanOrEqual(120);
  });

  it('gives the rule engine events that cover every behaviour, all valid', () => {
    for (const u of data.users) {
      const bs = mine(u.id);
      const lines = deriveEventLines(u.id, bs);
      const parser = new EventLineParser({
        runId: 'run_demo',
        userId: u.id,
        behaviourIds: new Set(bs.map((b) => b.id)),
      });
      const results = [...parser.push(`${lines.join('\n')}\n`), ...parser.end()];
      expect(results.filter((r) => r.kind !== 'event')).toEqual([]);
      expect(parser.covered.size).toBe(bs.length);
      const types = new Set(results.map((r) => (r.kind === 'event' ? r.event.eventType : '')));
      expect([...types]).toEqual(expect.arrayContaining(['线上看车', '到店看车', '试驾', '询价', '下单']));
    }
  });
});

describe('spreadCounts', () => {
  it('spreads exactly the total by weight, never above a cap, nothing on weight 0', () => {
    const counts = spreadCounts(100, [1, 0, 3, 1, 5], [100, 100, 100, 100, 30]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(counts[1]).toBe(0);
    expect(counts[4]).toBe(30);
    expect(counts[2]).toBeGreaterThan(counts[0]!);
  });

  it('hands out a remainder smaller than the number of days', () => {
    expect(spreadCounts(2, [1, 1, 1], [5, 5, 5]).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('refuses a total the days cannot hold', () => {
    expect(() => spreadCounts(11, [1, 1], [5, 5])).toThrow(/do not fit/);
  });
});
