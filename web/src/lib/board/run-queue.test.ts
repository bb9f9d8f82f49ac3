import { describe, expect, it } from 'vitest';
import type { PanelStatus } from '../status';
import { PanelQueue, RunQueue, SERVER_LIMIT } from './run-queue';

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

  it("holds back what the server's limit does not allow, whatever the batch asked for", () => {
    const q = new RunQueue<string>();
    for (const u of ['a', 'b', 'c', 'd']) q.add(u, 4);
    q.add('x', SERVER_LIMIT, true);
    expect(q.take(0, 2)).toEqual(['x', 'a']);
    expect(q.take(2, 2)).toEqual([]);
    // A server that allows more (a restart with a higher limit) lets the batch's own limit rule again.
    expect(q.take(1, 8)).toEqual(['b', 'c', 'd']);
  });

  it('removes waiting items', () => {
    const q = new RunQueue<string>();
    q.add('a', 1);
    expect(q.remove('a')).toBe(true);
    expect(q.remove('a')).toBe(false);
    expect(q.position('a')).toBe(0);
  });
});

describe('PanelQueue', () => {
  const panel = (view: { status: 'done' } | null = null) => ({
    status: 'idle' as PanelStatus,
    queuePos: 0,
    view: view as never,
  });

  it('shows a waiting panel as queued with its place, and its run again when taken out', () => {
    const q = new PanelQueue<ReturnType<typeof panel>>();
    const [a, b, c] = [panel(), panel({ status: 'done' }), panel()];
    for (const p of [a, b, c]) q.add(p, 1);
    expect([a, b, c].map((p) => [p.status, p.queuePos])).toEqual([
      ['queued', 1],
      ['queued', 2],
      ['queued', 3],
    ]);
    expect(q.remove(b)).toBe(true);
    expect([b.status, b.queuePos, c.queuePos]).toEqual(['done', 0, 2]);
    expect(q.take(0, 8)).toEqual([a]);
    expect([a.queuePos, c.queuePos]).toEqual([0, 1]);
    expect(q.limitOf(c)).toBe(1);
    expect(q.remove(a)).toBe(false);
  });
});
