import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

describe('LineSplitter', () => {
  it('returns complete lines and keeps the partial tail', () => {
    const s = new LineSplitter();
    expect(s.push('a|b\nc|')).toEqual(['a|b']);
    expect(s.pending).toBe('c|');
    expect(s.push('d\n\ne')).toEqual(['c|d', '']);
    expect(s.pending).toBe('e');
    expect(s.flush()).toBe('e');
    expect(s.pending).toBe('');
    expect(s.flush()).toBeNull();
  });

  it('strips CRLF even when \\r and \\n arrive in different chunks', () => {
    const s = new LineSplitter();
    expect(s.push('one\r')).toEqual([]);
    expect(s.push('\ntwo\r\nthree')).toEqual(['one', 'two']);
    expect(s.push('\r')).toEqual([]);
    expect(s.flush()).toBe('three');
  });

  it('keeps a \\r inside a line', () => {
    expect(new LineSplitter().push('a\rb\n')).toEqual(['a\rb']);
  });

  it('returns nothing for an empty chunk', () => {
    const s = new LineSplitter();
    expect(s.push('')).toEqual([]);
    expect(s.flush()).toBeNull();
  });
});
