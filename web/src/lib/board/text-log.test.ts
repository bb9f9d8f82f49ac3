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

  it('reads exactly what is new at every read over a 132,000-piece run, across chunk boundaries', () => {
    // What it costs is checked where it shows, without a clock here: e2e/long-history.spec.ts holds the
    // board's longest task under 50 ms while a 5,000-behaviour run streams (the rope copy cost 67–74 ms).
    const log = new TextLog();
    const pieces: string[] = [];
    let read = 0;
    let got = '';
    for (let i = 0; i < 132_000; i++) {
      const piece = '看车ab\n'.slice(i % 5);
      pieces.push(piece);
      log.append(piece);
      if (i % 331 === 0) {
        const next = log.since(read);
        expect(next.length).toBe(log.length - read);
        got += next;
        read = log.length;
      }
    }
    got += log.since(read);
    expect(got).toBe(pieces.join(''));
    expect(log.since(log.length - 7)).toBe(pieces.join('').slice(-7));
  });
});
