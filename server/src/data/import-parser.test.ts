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

describe('parseImport csv', () => {
  const header = 'id,user_id,ts,action,object,channel,detail';

  it('reads quoted commas, newlines, doubled quotes, Chinese and CRLF', () => {
    const text = [
      `\uFEFF${header}`,
      'b1,u1,2026-01-05 10:00,看车,小米SU7,store,"停留 5 分钟, 关注续航"',
      '',
      'b2,u1,2026-01-05T10:20,试驾,"Model Y",store,"第一行\r\n第二行 ""好开"""',
      'b3,u2,2026-01-06 09:00:00,询价,理想L6,phone,',
    ].join('\r\n');
    const r = parseImport(text, 'csv');
    expect(r.errors).toEqual([]);
    expect(r.users).toEqual([]);
    expect(r.behaviours.map((b) => [b.id, b.ts, b.detail])).toEqual([
      ['b1', '2026-01-05 10:00', '停留 5 分钟, 关注续航'],
      ['b2', '2026-01-05 10:20', '第一行\n第二行 "好开"'],
      ['b3', '2026-01-06 09:00', null],
    ]);
    expect(
      parseImport('ID, UserId ,ts,action,object,channel\nb1,u1,2026-01-05 10:00,看车,X,app', 'csv').errors,
    ).toEqual([]);
  });

  it('reports bad rows on the physical line where each record starts', () => {
    const text = [
      header, // 1
      'b1,u1,2026-01-05 10:00,看车,X,store,"multi', // 2
      'line detail"', // 3
      'b2,u1,2026-02-29 10:00,看车,X,store,', // 4
      'b3,u1,2026-01-05 10:00,看车', // 5
      'b4,u"1,2026-01-05 10:00,看车,X,store,', // 6
      'b1,u1,2026-01-05 10:00,看车,X,store,', // 7
      'b5,u1,2026-01-05 10:00,,X,store,"a ""quoted""', // 8
      'and more"', // 9
      'b6,u1,2026-01-05 10:00,看车,X,store,', // 10
      'b7,u1,2026-01-05 10:00,看车,X,store,"never closed', // 11
      'b8,u1,2026-01-05 10:00,看车,X,store,', // 12
    ].join('\n');
    const r = parseImport(text, 'csv');
    expect(r.errors).toEqual([
      { line: 4, reason: 'ts "2026-02-29 10:00" is not a valid date' },
      { line: 5, reason: 'row has 4 fields but the header has 7' },
      { line: 6, reason: expect.stringContaining('quote') },
      { line: 7, reason: 'duplicate behaviour id b1 (first on line 2)' },
      { line: 8, reason: 'field "action" is empty' },
      { line: 11, reason: 'a quoted field is never closed (missing ")' },
    ]);
    expect(r.behaviours.map((b) => b.id)).toEqual(['b1', 'b6']);
  });

  it('reports a short row in an otherwise well-formed file', () => {
    const text = `${header}\nb1,u1,2026-01-05 10:00,看车,X,app,\n\nb2,u1,2026-01-05 10:00,看车\n`;
    expect(parseImport(text, 'csv').errors).toEqual([
      { line: 4, reason: 'row has 4 fields but the header has 7' },
    ]);
  });

  it('rejects a header without the required columns', () => {
    expect(parseImport('\n\nid,user,ts\nb1,u1,x', 'csv').errors).toEqual([
      {
        line: 3,
        reason: expect.stringContaining('missing column(s) "user_id", "action", "object", "channel"'),
      },
    ]);
    expect(parseImport(header, 'csv').errors).toEqual([{ line: 1, reason: 'no data rows below the header' }]);
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
