import { describe, expect, it } from 'vitest';
import { isSavedBoard, queueLimitOf, snapshot, type StoredPanel } from './board-storage';
import { SERVER_LIMIT } from './run-queue';

describe('saved board', () => {
  it('accepts what the board writes and rejects anything else', () => {
    expect(
      isSavedBoard({
        panels: [{ userId: 'u1', name: null, runId: 'run_abcdef', queued: 4 }],
        columns: 0,
        concurrency: 4,
      }),
    ).toBe(true);
    expect(
      isSavedBoard({
        panels: [{ userId: 'u1', name: null, runId: null, queued: 'server' }],
        columns: 2,
        concurrency: 1,
      }),
    ).toBe(true);
    expect(isSavedBoard({ panels: [{ name: 'x' }] })).toBe(false);
    expect(isSavedBoard({ panels: [null] })).toBe(false);
    expect(isSavedBoard({ panels: [{ userId: 'u1', name: null, runId: null, queued: 'soon' }] })).toBe(false);
    expect(isSavedBoard({ panels: [{ userId: 'u1', name: null, runId: null, queued: 0 }] })).toBe(false);
    expect(isSavedBoard('[]')).toBe(false);
  });

  it('saves queue limits and only the key of a start in flight', () => {
    const p = (userId: string, over: Partial<StoredPanel> = {}): StoredPanel => ({
      userId,
      name: null,
      runId: null,
      status: 'idle',
      startKey: null,
      ...over,
    });
    const panels = [
      p('batch', { status: 'queued' }),
      p('single', { status: 'queued' }),
      p('starting', { status: 'starting', startKey: 'k'.repeat(32) }),
      // Answered already: the key is spent, a reload must not send it again.
      p('started', { status: 'streaming', runId: 'run_1', startKey: 'k'.repeat(32) }),
      p('idle', { name: '张三', startKey: 'k'.repeat(32) }),
    ];
    const limits = new Map([
      [panels[0], 3],
      [panels[1], SERVER_LIMIT],
    ]);
    const saved = snapshot(panels, (x) => limits.get(x), { columns: 2, concurrency: 3 });
    expect(saved).toEqual({
      panels: [
        { userId: 'batch', name: null, runId: null, queued: 3 },
        { userId: 'single', name: null, runId: null, queued: 'server' },
        { userId: 'starting', name: null, runId: null, startKey: 'k'.repeat(32) },
        { userId: 'started', name: null, runId: 'run_1' },
        { userId: 'idle', name: '张三', runId: null },
      ],
      columns: 2,
      concurrency: 3,
    });
    expect(isSavedBoard(JSON.parse(JSON.stringify(saved)))).toBe(true);
    expect(saved.panels.map((s) => queueLimitOf(s.queued))).toEqual([
      3,
      SERVER_LIMIT,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
