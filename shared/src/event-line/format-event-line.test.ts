import { describe, expect, it } from 'vitest';
import { EVENT_LINE_FIELDS } from './event-line-fields.js';
import { formatEventLine, type EventLineInput } from './format-event-line.js';
import { CTX } from './test-fixtures.js';
import { validateEventLine } from './validate-event-line.js';

const INPUT: EventLineInput = {
  userId: 'user_0007',
  eventType: '看车',
  startTime: '2026-01-15 10:00',
  endTime: '2026-01-15 11:30',
  sourceBehaviorIds: ['b0007-01', 'b0007-02'],
  summary: '在门店看了Model Y并咨询配置',
};

describe('formatEventLine', () => {
  it('matches the documented format', () => {
    expect(EVENT_LINE_FIELDS).toEqual([
      'user_id',
      'event_type',
      'start_time',
      'end_time',
      'source_behavior_ids',
      'summary',
    ]);
    expect(formatEventLine(INPUT)).toBe(
      'user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-01,b0007-02|在门店看了Model Y并咨询配置',
    );
  });

  it('round-trips through validateEventLine', () => {
    const r = validateEventLine(formatEventLine(INPUT), 5, CTX);
    expect(r).toEqual({ kind: 'event', event: { ...INPUT, runId: CTX.runId, lineNo: 5 } });
  });

  it('cannot be broken by separators or line breaks inside fields', () => {
    const line = formatEventLine({
      ...INPUT,
      eventType: '看|车\r\n',
      sourceBehaviorIds: ['b0007-01\n', 'b0007|-02'],
      summary: '第一行\r\n第二行 | 价格|配置',
    });
    expect(line).not.toMatch(/[\r\n]/);
    expect(line.split('|')).toHaveLength(6);
    const r = validateEventLine(line, 1, CTX);
    expect(r.kind).toBe('event');
    if (r.kind !== 'event') return;
    expect(r.event.eventType).toBe('看车');
    expect(r.event.sourceBehaviorIds).toEqual(['b0007-01', 'b0007-02']);
    expect(r.event.summary).toBe('第一行 第二行 ／ 价格／配置');
  });
});
