import { describe, expect, it } from 'vitest';
import { matchEvents, scoreEvents, type ScoredEvent } from './score.js';

const ev = (eventType: string, ...ids: string[]): ScoredEvent => ({ eventType, sourceBehaviorIds: ids });
const HISTORY = new Set(['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8']);
const REFERENCE = [
  ev('线上看车', 'b1', 'b2', 'b3'),
  ev('预约试驾', 'b4'),
  ev('到店看车', 'b5', 'b6'),
  ev('试驾', 'b7', 'b8'),
];
const score = (
  predicted: ScoredEvent[],
  rejectedCodes?: Parameters<typeof scoreEvents>[0]['rejectedCodes'],
) => scoreEvents({ reference: REFERENCE, predicted, behaviourIds: HISTORY, rejectedCodes });

describe('scoreEvents', () => {
  it('scores 1.0 everywhere on identical sets', () => {
    const s = score(REFERENCE.map((e) => ({ ...e })));
    expect(s).toMatchObject({ precision: 1, recall: 1, f1: 1, matched: 4, reference: 4, predicted: 4 });
    expect(s.sources).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(s.grounded).toEqual({ valid: 4, total: 4, share: 1 });
    expect(s.rejected).toEqual({ total: 0, share: 0, byCode: {} });
    expect(s.cited).toBe(1);
  });

  it('does not care about order or about the order of ids', () => {
    const shuffled = [ev('试驾', 'b8', 'b7'), ...REFERENCE.slice(0, 3).reverse()];
    expect(score(shuffled)).toMatchObject({ f1: 1, sources: { f1: 1 } });
  });

  it('drops recall, not precision, when an event is missing', () => {
    const s = score(REFERENCE.slice(0, 3));
    expect(s).toMatchObject({ precision: 1, recall: 0.75, matched: 3 });
    expect(s.f1).toBeCloseTo(6 / 7);
    expect(s.sources.recall).toBeLessThan(1);
    expect(s.cited).toBe(6 / 8);
  });

  it('drops precision, not recall, for an extra event', () => {
    const s = score([...REFERENCE, ev('询价', 'b5')]);
    expect(s).toMatchObject({ precision: 0.8, recall: 1, matched: 4 });
    expect(s.f1).toBeLessThan(1);
    expect(s.sources.precision).toBeLessThan(1);
  });

  it('does not match a mis-typed event', () => {
    const s = score([...REFERENCE.slice(0, 3), ev('到店看车', 'b7', 'b8')]);
    expect(s).toMatchObject({ matched: 3, precision: 0.75, recall: 0.75 });
    expect(s.sources.f1).toBeLessThan(1);
  });

  it('does not match an event grounded on the wrong behaviours', () => {
    const s = score([...REFERENCE.slice(0, 3), ev('试驾', 'b1', 'b2')]);
    expect(s).toMatchObject({ matched: 3, f1: 0.75 });
    expect(s.grounded.share).toBe(1); // real ids, just the wrong ones
  });

  it('keeps a partly wrong grounding matched but lowers the source scores', () => {
    const s = score([...REFERENCE.slice(0, 3), ev('试驾', 'b7', 'b3')]);
    expect(s).toMatchObject({ matched: 4, f1: 1 });
    expect(s.sources.precision).toBeLessThan(1);
    expect(s.sources.recall).toBeLessThan(1);
  });

  it('never matches an event citing an id outside the history, and reports grounding', () => {
    const s = score([...REFERENCE.slice(0, 3), ev('试驾', 'b7', 'b8', 'b99')]);
    expect(s).toMatchObject({ matched: 3, f1: 0.75 });
    expect(s.grounded).toEqual({ valid: 3, total: 4, share: 0.75 });
    expect(s.cited).toBe(6 / 8); // b7 and b8 are not credited through an ungrounded event
  });

  it('matches one-to-one: a reference event split in two counts once', () => {
    const s = score([ev('线上看车', 'b1', 'b2'), ev('线上看车', 'b3'), ...REFERENCE.slice(1)]);
    expect(s).toMatchObject({ matched: 4, predicted: 5, precision: 0.8, recall: 1 });
    expect(s.sources.f1).toBe(1);
  });

  it('reports the share of rejected lines by code', () => {
    const s = score(REFERENCE, ['unknown_behaviour', 'prose', 'unknown_behaviour', 'cut_off']);
    expect(s.rejected).toEqual({
      total: 4,
      share: 0.5,
      byCode: { unknown_behaviour: 2, prose: 1, cut_off: 1 },
    });
    expect(s.f1).toBe(1);
  });

  it('scores saying nothing as 0, and nothing expected and nothing said as 1', () => {
    expect(score([])).toMatchObject({ precision: 0, recall: 0, f1: 0, cited: 0 });
    const none = scoreEvents({ reference: [], predicted: [], behaviourIds: new Set() });
    expect(none).toMatchObject({ precision: 1, recall: 1, f1: 1, cited: 1 });
    expect(scoreEvents({ reference: [], predicted: [ev('试驾', 'b1')], behaviourIds: HISTORY }).f1).toBe(0);
  });
});

describe('matchEvents', () => {
  it('takes the largest overlaps first', () => {
    const reference = [ev('线上看车', 'a', 'b'), ev('线上看车', 'c', 'd', 'e')];
    // p0 overlaps r0 by 1 and r1 by 3; p1 overlaps r0 by 2: best total is p0–r1, p1–r0.
    const predicted = [ev('线上看车', 'b', 'c', 'd', 'e'), ev('线上看车', 'a', 'b')];
    const ids = new Set(['a', 'b', 'c', 'd', 'e']);
    expect(matchEvents(reference, predicted, ids)).toEqual([
      [1, 0, 3],
      [0, 1, 2],
    ]);
  });

  it('breaks ties by the earlier events', () => {
    const reference = [ev('试驾', 'a'), ev('试驾', 'a')];
    const predicted = [ev('试驾', 'a'), ev('试驾', 'a')];
    expect(matchEvents(reference, predicted, new Set(['a']))).toEqual([
      [0, 0, 1],
      [1, 1, 1],
    ]);
  });
});
