import { describe, expect, it } from 'vitest';
import { TextAppender, type LineSink } from './text-appender';

/** Lines as strings, and every call the appender made. */
function recorder() {
  const lines: string[] = [];
  const calls: string[] = [];
  let open = false;
  const sink: LineSink = {
    append(text) {
      calls.push(`append ${JSON.stringify(text)}`);
      if (!open) lines.push('');
      open = true;
      lines[lines.length - 1] += text;
    },
    endLine() {
      calls.push('end');
      open = false;
    },
    clear() {
      calls.push('clear');
      lines.length = 0;
      open = false;
    },
  };
  return { sink, lines, calls };
}

describe('TextAppender', () => {
  it('appends only the new characters, one block per line, the text kept exactly', () => {
    const { sink, lines, calls } = recorder();
    const a = new TextAppender(sink);
    const view = {};
    a.update('user_0007|到店', view);
    a.update('user_0007|到店看车|2026-01-15\nuser_', view);
    calls.length = 0;
    expect(a.update('user_0007|到店看车|2026-01-15\nuser_0007|试驾\n', view)).toBe(true);
    // Only the tail went out: no line was rewritten.
    expect(calls).toEqual(['append "0007|试驾\\n"', 'end']);
    expect(lines).toEqual(['user_0007|到店看车|2026-01-15\n', 'user_0007|试驾\n']);
    expect(lines.join('')).toBe('user_0007|到店看车|2026-01-15\nuser_0007|试驾\n');
  });

  it('does nothing when the text did not change, and starts over for a new view', () => {
    const { sink, lines, calls } = recorder();
    const a = new TextAppender(sink);
    const first = {};
    a.update('a\nb', first);
    calls.length = 0;
    expect(a.update('a\nb', first)).toBe(false);
    expect(calls).toEqual([]);
    // A replay from seq 1 (a new view) may repeat the same text: it is drawn again, once.
    a.update('a', {});
    expect(lines).toEqual(['a']);
    a.update('', first);
    expect(lines).toEqual([]);
  });

  it('starts over when the text got shorter under the same view', () => {
    const { sink, lines } = recorder();
    const a = new TextAppender(sink);
    const view = {};
    a.update('long text', view);
    a.update('new', view);
    expect(lines).toEqual(['new']);
  });
});
