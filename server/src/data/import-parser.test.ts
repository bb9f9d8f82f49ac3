import { describe, expect, it } from 'vitest';
import { detectFormat, parseImport } from './import-parser.js';

const row = (o: Record<string, unknown>) => JSON.stringify(o);
const good = (id: string, extra: Record<string, unknown> = {}) =>
  row({
    user_id: 'u1',
    id,
    ts: '2026-01-05 10:00',
    action: '看车',
    object: '小米SU7',
    channel: 'store',
    ...extra,
  });

describe('parseImport jsonl', () => {
  it('reads users and behaviours, skips blank lines and a BOM, normalises ts', () => {
    const text = [
      `\uFEFF${row({ type: 'user', id: 'u1', name: '张先生', profile: { city: '上海', vip: true } })}`,
      '',
      good('b1', { ts: '2026-01-05T10:00:59', detail: '门店: 上海徐汇店' }),
      '   ',
      row({
        type: 'behaviour',
        userId: 'u2',
        id: 'b2',
        ts: '2026-01-05 10:05:00',
        action: '试驾',
        object: 'Model Y',
        channel: 'store',
      }),
    ].join('\r\n');
    const r = parseImport(text, 'jsonl');
    expect(r.errors).toEqual([]);
    expect(r.users).toEqual([{ id: 'u1', name: '张先生', profile: { city: '上海', vip: true } }]);
    expect(r.behaviours).toEqual([
      {
        id: 'b1',
        userId: 'u1',
        ts: '2026-01-05 10:00',
        action: '看车',
        object: '小米SU7',
        channel: 'store',
        detail: '门店: 上海徐汇店',
      },
      {
        id: 'b2',
        userId: 'u2',
        ts: '2026-01-05 10:05',
        action: '试驾',
        object: 'Model Y',
        channel: 'store',
        detail: null,
      },
    ]);
  });

  it('reports every bad row with its line and a specific reason', () => {
    const lines = [
      good('b1'), // 1
      good('b2', { ts: '2026-02-30 10:00' }), // 2
      '{"id": "b3", oops}', // 3
      '', // 4
      good('b4', { action: undefined }), // 5
      good('b1'), // 6
      good('b7', { user_id: '张三' }), // 7
      good('b 8'), // 8
      good('b9', { ts: 'tomorrow' }), // 9
      row({ type: 'user', id: 'u9', profile: { tags: ['x'] } }), // 10
      '[1,2]', // 11
      row({ type: 'car', id: 'x' }), // 12
      good('b13', { ts: '2026-01-05 24:10', channel: '' }), // 13
    ];
    const r = parseImport(lines.join('\n'), 'jsonl');
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const reason = (line: number) => r.errors.find((e) => e.line === line)?.reason;
    expect(reason(2)).toBe('ts "2026-02-30 10:00" is not a valid date');
    expect(reason(3)).toMatch(/^invalid JSON: /);
    expect(reason(5)).toBe('missing field "action"');
    expect(reason(6)).toBe('duplicate behaviour id b1 (first on line 1)');
    expect(reason(7)).toMatch(/^user id "张三" may only contain/);
    expect(reason(8)).toMatch(/^behaviour id "b 8" may only contain/);
    expect(reason(9)).toMatch(/must look like YYYY-MM-DD HH:mm/);
    expect(reason(10)).toBe('profile field "tags" must be a string, number, boolean or null');
    expect(reason(11)).toBe('expected a JSON object, got an array');
    expect(reason(12)).toMatch(/unknown type "car"/);
    expect(reason(13)).toBe('ts "2026-01-05 24:10" is not a valid time; field "channel" is empty');
    expect(r.behaviours.map((b) => b.id)).toEqual(['b1']);
  });

  it('reports duplicate users and an empty file', () => {
    const u = row({ type: 'user', id: 'u1' });
    expect(parseImport(`${u}\n${u}`, 'jsonl').errors).toEqual([
      { line: 2, reason: 'duplicate user u1 (first on line 1)' },
    ]);
    expect(parseImport('\n\n', 'jsonl').errors).toEqual([{ line: 1, reason: 'no rows to import' }]);
  });
});

describe('detectFormat', () => {
  it('uses the file name, then the content type, then the content', () => {
    expect(detectFormat('a.JSONL', undefined, '')).toBe('jsonl');
    expect(detectFormat('a.csv', 'application/x-ndjson', '{}')).toBe('csv');
    expect(detectFormat(undefined, 'text/csv; charset=utf-8', '')).toBe('csv');
    expect(detectFormat(undefined, 'application/x-ndjson', '')).toBe('jsonl');
    expect(detectFormat('upload.txt', 'text/plain', '\uFEFF\n{"id":1}')).toBe('jsonl');
    expect(detectFormat(undefined, undefined, 'id,user_id,ts\n')).toBe('csv');
    expect(detectFormat('notes.txt', undefined, 'hello world')).toBeNull();
  });
});
