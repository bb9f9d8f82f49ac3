import { describe, expect, it } from 'vitest';
import { REJECT_CODES, type RejectCode } from '../domain.js';
import { CTX } from './test-fixtures.js';
import { validateEventLine } from './validate-event-line.js';

const OK = 'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01,b0007-02|在门店看了Model Y并咨询配置';

/** One line per code that validateEventLine can produce on its own. */
const CASES: [RejectCode, string][] = [
  ['prose', '```'],
  ['prose', '## 事件列表'],
  ['field_count', 'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01'],
  ['empty_field', 'user_0007| |2026-01-15 10:00|2026-01-15 11:30|b0007-01|摘要'],
  ['empty_field', 'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01|  '],
  ['user_mismatch', 'user_0008|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01|摘要'],
  ['bad_time', 'user_0007|看车|2026-02-30 10:00|2026-03-01 11:30|b0007-01|摘要'],
  ['bad_time', 'user_0007|看车|2026-01-15 10:00|2026-01-15 25:00|b0007-01|摘要'],
  ['bad_time', 'user_0007|看车|2026/01/15 10:00|2026-01-15 11:00|b0007-01|摘要'],
  ['end_before_start', 'user_0007|看车|2026-01-15 10:00|2026-01-15 09:00|b0007-01|摘要'],
  ['no_sources', 'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30| , ，|摘要'],
  ['unknown_behaviour', 'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01,b9999-01,x|摘要'],
];

describe('validateEventLine', () => {
  it('turns a valid line into an event with trimmed fields', () => {
    const r = validateEventLine(`  ${OK.replace('|看车|', '| 看车 |')}\t`, 3, CTX);
    expect(r).toEqual({
      kind: 'event',
      event: {
        runId: CTX.runId,
        userId: 'user_0007',
        eventType: '看车',
        startTime: '2026-01-15 10:00',
        endTime: '2026-01-15 11:30',
        sourceBehaviorIds: ['b0007-01', 'b0007-02'],
        summary: '在门店看了Model Y并咨询配置',
        lineNo: 3,
      },
    });
  });

  it.each(['', '   ', '\t'])('reports %j as blank, not a rejection', (text) => {
    expect(validateEventLine(text, 4, CTX)).toEqual({ kind: 'blank', lineNo: 4 });
  });

  it.each(CASES)('rejects with %s: %s', (code, text) => {
    const r = validateEventLine(text, 7, CTX);
    expect(r.kind).toBe('rejected');
    if (r.kind !== 'rejected') return;
    expect(r.line).toMatchObject({ code, lineNo: 7, text: text.trim() });
    expect(r.line.reason.length).toBeGreaterThan(5);
  });

  it('covers every reject code except the parser-only ones', () => {
    const covered = new Set(CASES.map(([code]) => code));
    expect(REJECT_CODES.filter((c) => !covered.has(c))).toEqual(['duplicate', 'cut_off']);
  });

  it('names the problem in the reason', () => {
    const reason = (text: string): string => {
      const r = validateEventLine(text, 1, CTX);
      return r.kind === 'rejected' ? r.line.reason : '';
    };
    expect(reason('user_0007|看车|2026-01-15 10:00|2026-01-15 09:00|b0007-01|摘要')).toBe(
      'end_time 2026-01-15 09:00 早于 start_time 2026-01-15 10:00',
    );
    const unknown = reason('user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01,b9999-01,x|摘要');
    expect(unknown).toContain('b9999-01, x');
    expect(unknown).not.toContain('b0007-01');
    expect(reason('user_0007|看车|2026-02-30 10:00|2026-03-01 11:30|b0007-01|摘要')).toContain(
      '2026-02-30 10:00',
    );
    expect(reason('user_0008|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01|摘要')).toContain('user_0008');
    expect(reason('|看车| |2026-01-15 11:30|b0007-01|摘要')).toContain('user_id, start_time');
  });

  it('accepts equal start and end times', () => {
    const r = validateEventLine('user_0007|到店|2026-01-15 10:00|2026-01-15 10:00|b0007-01|到店', 1, CTX);
    expect(r.kind).toBe('event');
  });

  it('joins extra | back into the summary', () => {
    const r = validateEventLine(`${OK}|备注：a|b`, 1, CTX);
    expect(r.kind === 'event' && r.event.summary).toBe('在门店看了Model Y并咨询配置|备注：a|b');
  });

  it('splits ids on , and ， with optional spaces and collapses duplicates', () => {
    const r = validateEventLine(
      'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01, b0007-02，b0007-03 ，b0007-01,|摘要',
      1,
      CTX,
    );
    expect(r.kind === 'event' && r.event.sourceBehaviorIds).toEqual(['b0007-01', 'b0007-02', 'b0007-03']);
  });
});
