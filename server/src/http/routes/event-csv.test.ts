import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { ExtractedEvent } from '@app/shared';
import { EVENT_CSV_HEADER, eventCsvRows } from './event-csv.js';

const event = (over: Partial<ExtractedEvent>): ExtractedEvent => ({
  userId: 'user_0007',
  eventType: '试驾',
  startTime: '2026-01-15 10:00',
  endTime: '2026-01-15 11:30',
  sourceBehaviorIds: ['b0007-03', 'b0007-04'],
  summary: '在上海徐汇店看了Model Y',
  runId: 'run_AAAAAAAAAAAAAAAA',
  lineNo: 1,
  ...over,
});

/** The cells a spreadsheet (or any RFC 4180 reader) sees. */
const cells = (csv: string): string[][] => parse(csv, { relax_quotes: false }) as string[][];

describe('event CSV', () => {
  it('neutralises formula starts (= + - @ tab CR, full-width too): a leading quote, and quoted', () => {
    const starts = ['=1+1', '+1', '-2+3', '@SUM(A1:A9)', '\tx', '\rx', '＝1+1', '＋1', '－1', '＠x'];
    for (const summary of starts) {
      const row = eventCsvRows([event({ summary })]);
      expect(row, JSON.stringify(summary)).toContain(`,"'${summary}",`);
      expect(cells(row)[0]![5], JSON.stringify(summary)).toBe(`'${summary}`);
    }
    const link = eventCsvRows([event({ summary: '=HYPERLINK("http://evil.example","点这里")' })]);
    expect(cells(link)[0]![5]).toBe(`'=HYPERLINK("http://evil.example","点这里")`);
  });

  it('checks every text field, ids included', () => {
    const row = eventCsvRows([
      event({ userId: '-u1', eventType: '@type', sourceBehaviorIds: ['-b1', 'b2'], runId: '=run' }),
    ]);
    expect(cells(row)[0]).toEqual([
      "'-u1",
      "'@type",
      '2026-01-15 10:00',
      '2026-01-15 11:30',
      "'-b1,b2",
      '在上海徐汇店看了Model Y',
      "'=run",
      '1',
    ]);
  });

  it('leaves everything else as it was: Chinese raw, a formula sign inside the text untouched', () => {
    const plain = eventCsvRows([event({ summary: '到店看车，备注：价格=30万' })]);
    expect(plain).toBe(
      'user_0007,试驾,2026-01-15 10:00,2026-01-15 11:30,"b0007-03,b0007-04",到店看车，备注：价格=30万,run_AAAAAAAAAAAAAAAA,1\r\n',
    );
    expect(EVENT_CSV_HEADER).toBe(
      '\uFEFFuser_id,event_type,start_time,end_time,source_behavior_ids,summary,run_id,line_no\r\n',
    );
  });
});
