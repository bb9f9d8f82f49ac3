import { describe, expect, it } from 'vitest';
import { RunQueue } from './run-queue';

describe('RunQueue', () => {
  it('starts items in order while there is room under their limit', () => {
    const q = new RunQueue<string>();
    for (const u of ['a', 'b', 'c', 'd']) q.add(u, 2);
    expect(q.take(0)).toEqual(['a', 'b']);
    expect(q.position('c')).toBe(1);
    expect(q.position('d')).toBe(2);
    expect(q.take(2)).toEqual([]);
    expect(q.take(1)).toEqual(['c']);
    expect(q.size).toBe(1);
  });

  it('lets a single start with a higher limit go first, and never queues twice', () => {
    const q = new RunQueue<string>();
    q.add('a', 1);
    q.add('b', 1);
    q.add('x', 8, true);
    q.add('a', 1);
    expect(q.size).toBe(3);
    expect(q.take(1)).toEqual(['x']);
    expect(q.limitOf('a')).toBe(1);
  });

  it('removes waiting items', () => {
    const q = new RunQueue<string>();
    q.add('a', 1);
    expect(q.remove('a')).toBe(true);
    expect(q.remove('a')).toBe(false);
    expect(q.position('a')).toBe(0);
  });
});
