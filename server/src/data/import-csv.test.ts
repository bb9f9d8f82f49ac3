import { describe, expect, it } from 'vitest';
import { parseImport } from './import-parser.js';

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
    expect(parseImport('\uFEFF\r\n', 'csv').errors).toEqual([
      { line: 1, reason: 'the file is empty (a header row is needed)' },
    ]);
  });
});
