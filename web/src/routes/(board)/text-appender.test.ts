import { describe, expect, it } from 'vitest';
import { TextLines } from './text-lines';

const joined = (t: TextLines) => t.lines.join('') + t.tail;

describe('TextLines', () => {
  it('splits growing text into finished lines and the tail, keeping every character', () => {
    const t = new TextLines();
    const pieces = ['user', '_1|看车|2026', '-01-01\nuser_1|', '试驾\n', '\n', 'x'];
    let text = '';
    for (const p of pieces) {
      text += p;
      expect(t.update(text)).toBe(true);
      expect(joined(t)).toBe(text);
    }
    expect(t.lines).toEqual(['user_1|看车|2026-01-01\n', 'user_1|试驾\n', '\n']);
    expect(t.tail).toBe('x');
  });

  it('reports no change for the same text and keeps the lines array when only the tail grew', () => {
    const t = new TextLines();
    t.update('a\nb');
    const lines = t.lines;
    expect(t.update('a\nb')).toBe(false);
    t.update('a\nbc');
    expect(t.lines).toBe(lines);
    t.update('a\nbc\n');
    expect(t.lines).not.toBe(lines);
  });

  it('starts over when the text is replaced (a reset or another run)', () => {
    const t = new TextLines();
    t.update('one\ntwo\nthr');
    t.update('');
    expect(joined(t)).toBe('');
    t.update('other\nx');
    expect(t.lines).toEqual(['other\n']);
    expect(t.tail).toBe('x');
  });
});
