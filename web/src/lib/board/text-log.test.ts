import { describe, expect, it } from 'vitest';
import { TextLog } from './text-log';

describe('TextLog', () => {
  it('gives back exactly the text from any offset seen before, across chunk borders', () => {
    const log = new TextLog();
    let text = '';
    const offsets: number[] = [0];
    for (let i = 0; i < 5000; i++) {
      const piece = i % 9 === 0 ? `事件${i}\n` : `p${i}|`;
      log.append(piece);
      text += piece;
      if (i % 37 === 0) offsets.push(text.length);
    }
    expect(log.length).toBe(text.length);
    for (const o of offsets) expect(log.since(o)).toBe(text.slice(o));
    expect(log.since(text.length)).toBe('');
  });

  it('reads only what is new, whatever was read before', () => {
    const log = new TextLog();
    let shown = '';
    let text = '';
    for (let i = 0; i < 3000; i++) {
      log.append(`${i},`);
      text += `${i},`;
      if (i % 11 === 0) shown += log.since(shown.length);
    }
    shown += log.since(shown.length);
    expect(shown).toBe(text);
  });

  it('ignores empty pieces', () => {
    const log = new TextLog();
    log.append('');
    log.append('a');
    log.append('');
    expect([log.length, log.since(0)]).toEqual([1, 'a']);
  });

  it('costs what is new, not the whole text (regression: a 300 KB rope copied every frame)', () => {
    // The same reads from the text grown with +=, then from the log: V8 copies the rope on each slice.
    const timeReads = (append: (s: string) => void, since: (offset: number) => string): number => {
      let read = 0;
      let spent = 0;
      for (let i = 0; i < 132_000; i++) {
        append('ab\n'.slice(i % 3));
        if (i % 330 === 0) {
          const t = performance.now();
          read += since(read).length;
          spent += performance.now() - t;
        }
      }
      return spent;
    };
    let text = '';
    const rope = timeReads(
      (s) => (text += s),
      (o) => text.slice(o),
    );
    const log = new TextLog();
    const chunked = timeReads(
      (s) => log.append(s),
      (o) => log.since(o),
    );
    expect(chunked).toBeLessThan(rope / 4);
  });
});
