import { describe, expect, it } from 'vitest';
import { deriveEventLines, eventTypeOf, remainingLines } from './rules.js';
import { BEHAVIOURS, USER, lineProblem } from './test-fixtures.js';
import { parseFaultSpec } from './faults.js';
import { mulberry32 } from '@app/shared';
import { estimateTokens, splitPieces } from './text-pieces.js';

const EXPECTED = [
  'user_0007|线上看车|2026-01-10 20:00|2026-01-10 20:40|b0007-01,b0007-02,b0007-03|通过App、官网浏览车型、查看配置、对比车型，涉及Model Y、Model 3（共3次），备注：长续航版',
  'user_0007|预约试驾|2026-01-11 09:00|2026-01-11 09:00|b0007-04|通过App预约试驾，涉及Model Y，备注：周六上午',
  'user_0007|到店看车|2026-01-15 10:00|2026-01-15 10:20|b0007-05,b0007-06|到店参观、看车，涉及徐汇门店、Model Y（共2次），备注：咨询配置',
  'user_0007|试驾|2026-01-15 10:40|2026-01-15 10:40|b0007-07|在门店试驾，涉及Model Y',
  'user_0007|询价|2026-01-15 11:30|2026-01-15 11:45|b0007-08,b0007-09|在门店询价、咨询金融方案，涉及Model Y（共2次），备注：问了落地价',
  'user_0007|线上看车|2026-01-16 19:00|2026-01-16 19:00|b0007-10|通过App浏览车型，涉及Model Y',
  'user_0007|线上看车|2026-01-16 23:50|2026-01-16 23:50|b0007-11|通过App浏览车型，涉及Model 3',
  'user_0007|下单|2026-01-20 14:00|2026-01-20 14:05|b0007-12,b0007-13|通过App支付定金、下单，涉及Model Y（共2次），备注：定金5000元',
  'user_0007|其他互动|2026-01-21 10:00|2026-01-21 10:00|b0007-14|在门店领取礼品，涉及车模',
];

describe('rule engine', () => {
  it('turns the hand-made journey into the expected lines', () => {
    expect(deriveEventLines(USER.id, BEHAVIOURS)).toEqual(EXPECTED);
  });

  it('does not depend on input order', () => {
    expect(deriveEventLines(USER.id, [...BEHAVIOURS].reverse())).toEqual(EXPECTED);
  });

  it('grounds every line and cites each usable behaviour exactly once', () => {
    const ids = new Set(BEHAVIOURS.map((b) => b.id));
    const lines = deriveEventLines(USER.id, BEHAVIOURS);
    for (const line of lines) expect(lineProblem(line, USER.id, ids), line).toBeNull();
    const cited = lines.flatMap((l) => l.split('|')[4]!.split(','));
    expect(cited.sort()).toEqual([...ids].sort());
  });

  it('skips behaviours that cannot be grounded and never splits a day boundary', () => {
    const lines = deriveEventLines('u1', [
      { id: 'a', ts: '2026-02-30 10:00', action: '试驾', object: 'X', channel: 'store', detail: null },
      { id: 'b,c', ts: '2026-02-01 10:00', action: '试驾', object: 'X', channel: 'store', detail: null },
      { id: 'd', ts: '2026-02-01 23:50', action: '浏览车型', object: 'X', channel: 'app', detail: 'a|b' },
      { id: 'e', ts: '2026-02-02 00:10', action: '浏览车型', object: 'X', channel: 'app', detail: null },
      { id: 'e', ts: '2026-02-02 00:20', action: '浏览车型', object: 'X', channel: 'app', detail: null },
    ]);
    expect(lines.map((l) => l.split('|')[4])).toEqual(['d', 'e']);
    expect(lines[0]).toContain('备注：a｜b');
  });

  it('maps actions and channels to event types', () => {
    expect(eventTypeOf('浏览车型', 'app')).toBe('线上看车');
    expect(eventTypeOf('查看配置', 'store')).toBe('到店看车');
    expect(eventTypeOf('预约试驾', 'phone')).toBe('预约试驾');
    expect(eventTypeOf('咨询金融方案', 'app')).toBe('询价');
    expect(eventTypeOf('支付定金', 'app')).toBe('下单');
    expect(eventTypeOf('分享海报', 'wechat')).toBe('其他互动');
  });

  it('resume leaves out exactly the lines already produced', () => {
    for (const k of [0, 1, 4, EXPECTED.length]) {
      const done = EXPECTED.slice(0, k).map((l) => `  ${l} `);
      expect(remainingLines(EXPECTED, done)).toEqual(EXPECTED.slice(k));
    }
  });
});

describe('helpers', () => {
  it('splits text into 1–4 character pieces deterministically', () => {
    const text = EXPECTED.join('\n');
    const a = splitPieces(text, mulberry32(42));
    expect(a.join('')).toBe(text);
    expect(a.every((p) => p.length >= 1 && p.length <= 4)).toBe(true);
    expect(splitPieces(text, mulberry32(42))).toEqual(a);
    expect(splitPieces(text, mulberry32(43))).not.toEqual(a);
  });

  it('estimates tokens: one per CJK char, one per 4 ASCII chars', () => {
    expect(estimateTokens('试驾abcdefgh')).toBe(4);
    expect(estimateTokens('')).toBe(0);
  });

  it('parses fault specs and rejects typos', () => {
    expect(parseFaultSpec('429x2r3, drop@20,stall@5,500')).toEqual([
      { kind: 'status', status: 429, times: 2, retryAfterSeconds: 3 },
      { kind: 'drop', afterPieces: 20 },
      { kind: 'stall', afterPieces: 5 },
      { kind: 'status', status: 500, times: 1 },
    ]);
    expect(parseFaultSpec('')).toEqual([]);
    expect(() => parseFaultSpec('418')).toThrow(/unknown fault/);
  });
});
