import { describe, expect, it } from 'vitest';
import type { ParsedLine } from './validate-event-line.js';
import { EventLineParser } from './event-line-parser.js';
import { CTX, SAMPLE } from './test-fixtures.js';

const line = (type: string, ids: string, start = '2026-01-15 10:00', end = '2026-01-15 11:30'): string =>
  `user_0007|${type}|${start}|${end}|${ids}|摘要`;

const codes = (results: ParsedLine[]): string[] =>
  results.map((r) => (r.kind === 'rejected' ? r.line.code : r.kind));

describe('EventLineParser', () => {
  it('parses the sample into the expected kinds and line numbers', () => {
    const p = new EventLineParser(CTX);
    const results = [...p.push(SAMPLE), ...p.end()];
    expect(codes(results)).toEqual([
      'prose',
      'event',
      'blank',
      'event',
      'end_before_start',
      'event',
      'duplicate',
      'event',
    ]);
    expect(
      results.map((r) =>
        r.kind === 'event' ? r.event.lineNo : r.kind === 'blank' ? r.lineNo : r.line.lineNo,
      ),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(p.lineNo).toBe(8);
  });

  it('returns results only for lines completed by each chunk', () => {
    const p = new EventLineParser(CTX);
    expect(p.push(line('看车', 'b0007-01').slice(0, 20))).toEqual([]);
    expect(p.lineNo).toBe(0);
    expect(codes(p.push(line('看车', 'b0007-01').slice(20) + '\nuser_0007|'))).toEqual(['event']);
    expect(p.lineNo).toBe(1);
    expect(p.pending).toBe('user_0007|');
  });

  it('rejects an event identical to an earlier valid one as duplicate', () => {
    const p = new EventLineParser(CTX);
    const text = [
      line('看车', 'b0007-01,b0007-02'),
      line('看车', 'b0007-02, b0007-01,b0007-02'), // same id set, other order, repeated id
      line('看车', 'b0007-01'), // other id set
      line('试驾', 'b0007-01,b0007-02'), // other type
      line('看车', 'b0007-01,b0007-02', '2026-01-15 10:01'), // other start
    ].join('\n');
    const results = [...p.push(text + '\n'), ...p.end()];
    expect(codes(results)).toEqual(['event', 'duplicate', 'event', 'event', 'event']);
    const dup = results[1];
    expect(dup?.kind === 'rejected' && dup.line.reason).toContain('第 1 行');
  });

  it('does not let an invalid line block a later identical valid one', () => {
    const p = new EventLineParser(CTX);
    const results = p.push(`${line('看车', 'b0007-01,b9999')}\n${line('看车', 'b0007-01')}\n`);
    expect(codes(results)).toEqual(['unknown_behaviour', 'event']);
  });

  it('tracks covered ids of valid events only, and percent', () => {
    const p = new EventLineParser(CTX);
    expect(p.percent(6)).toBe(0);
    p.push(`${line('看车', 'b0007-01,b0007-02')}\n`);
    p.push(`${line('看车', 'b0007-03,b9999')}\n`); // rejected: its known id must not count
    p.push(`${line('看车', 'b0007-04', '2026-01-15 10:00', '2026-01-15 09:00')}\n`); // rejected
    expect([...p.covered].sort()).toEqual(['b0007-01', 'b0007-02']);
    expect(p.percent(6)).toBe(33.3);
    expect(p.percent(3)).toBe(66.7);
    expect(p.percent(2)).toBe(100);
    expect(p.percent(1)).toBe(100); // clamped
    expect(p.percent(0)).toBe(0);
    p.push(`${line('试驾', 'b0007-02,b0007-03')}\n`);
    expect(p.covered.size).toBe(3);
    expect(p.percent(6)).toBe(50);
  });

  it('validates a complete final line without a newline as an event', () => {
    const p = new EventLineParser(CTX);
    expect(p.push(line('看车', 'b0007-01'))).toEqual([]);
    const results = p.end();
    expect(codes(results)).toEqual(['event']);
    expect(p.lineNo).toBe(1);
    expect(p.end()).toEqual([]);
  });

  it('rejects the unterminated last line as cut_off when the stream was cancelled', () => {
    const p = new EventLineParser(CTX);
    p.push(`${line('看车', 'b0007-01')}\nuser_0007|试驾|2026-01-16 14:00|2026-01-16 15:00|b0007-02|试驾`);
    const results = p.end({ cutOff: true });
    expect(results).toEqual([
      {
        kind: 'rejected',
        line: expect.objectContaining({
          lineNo: 2,
          code: 'cut_off',
          text: 'user_0007|试驾|2026-01-16 14:00|2026-01-16 15:00|b0007-02|试驾',
        }),
      },
    ]);
    expect(p.covered.has('b0007-02')).toBe(false);
  });

  it('treats a blank or missing tail as no cut', () => {
    const p = new EventLineParser(CTX);
    p.push(`${line('看车', 'b0007-01')}\n`);
    expect(p.end({ cutOff: true })).toEqual([]);
    p.push('  ');
    expect(p.end({ cutOff: true })).toEqual([{ kind: 'blank', lineNo: 2 }]);
  });

  it('numbers lines from startLineNo', () => {
    const p = new EventLineParser(CTX, { startLineNo: 10 });
    const results = p.push(`\n${line('看车', 'b0007-01')}\n`);
    expect(results[0]).toEqual({ kind: 'blank', lineNo: 10 });
    expect(results[1]?.kind === 'event' && results[1].event.lineNo).toBe(11);
    expect(p.lineNo).toBe(11);
    expect(p.linesCompleted).toBe(2);
  });

  it('rebuilds state from stored text with fromText and replay', () => {
    const cut = SAMPLE.indexOf('user_0007|看车|2026-01-15 10:00|2026-01-15 11:30|b0007-04') + 12;
    const { parser, results } = EventLineParser.fromText(CTX, SAMPLE.slice(0, cut));
    expect(parser.lineNo).toBe(6);
    expect(parser.pending).toBe(SAMPLE.slice(0, cut).split('\n').pop());
    const rest = [...parser.push(SAMPLE.slice(cut)), ...parser.end()];
    const whole = new EventLineParser(CTX);
    expect([...results, ...rest]).toEqual([...whole.replay(SAMPLE), ...whole.end()]);
    expect(codes(rest)).toEqual(['duplicate', 'event']); // remembered the earlier event
    expect(parser.covered).toEqual(whole.covered);
  });

  it('a line cut off before a resume stays cut off when rebuilt from the stored text', () => {
    // Cut inside the summary: the fragment alone is a valid line, and would shadow the real one.
    const real = line('试驾', 'b0007-02');
    const fragment = real.slice(0, -1);
    const live = new EventLineParser(CTX);
    live.push(`${line('看车', 'b0007-01')}\n${fragment}`);
    const cut = live.end({ cutOff: true });
    expect(codes(cut)).toEqual(['cut_off']);
    const resumed = live.push(`${real}\n`);
    expect(codes(resumed)).toEqual(['event']);

    const text = `${line('看车', 'b0007-01')}\n${fragment}\n${real}\n`;
    const naive = EventLineParser.fromText(CTX, text).results;
    expect(codes(naive)).toEqual(['event', 'event', 'duplicate']);
    const rebuilt = EventLineParser.fromText(CTX, text, { cutOffLines: new Set([2]) });
    expect(codes(rebuilt.results)).toEqual(['event', 'cut_off', 'event']);
    expect(rebuilt.parser.covered).toEqual(live.covered);
    expect(rebuilt.parser.lineNo).toBe(live.lineNo);
  });
});
