import { describe, expect, it } from 'vitest';
import type { RunFrame } from '../frames.js';
import { applyFrame, createRunView } from './run-view.js';

const runId = 'run_abcdefgh';
const outcome = { events: 1, rejected: 1, pieces: 2, usage: null, durationMs: 40 };
const start: RunFrame = {
  type: 'start',
  runId,
  seq: 1,
  userId: 'user_0007',
  model: 'm',
  message: '开始',
  behaviourCount: 3,
  truncated: null,
};
const chunk = (seq: number, content: string): RunFrame => ({ type: 'llm_chunk', runId, seq, content });
const progress = (seq: number, stage: 'calling' | 'resumed' | 'line_rejected'): RunFrame => ({
  type: 'progress',
  runId,
  seq,
  stage,
  message: stage,
  percent: 10,
  ...(stage === 'line_rejected'
    ? { rejected: { lineNo: 1, text: 'hi', code: 'prose' as const, reason: 'prose' } }
    : {}),
});

describe('applyFrame', () => {
  it('folds frames and ignores duplicates and other runs', () => {
    const v = createRunView(runId);
    expect(v.status).toBe('starting');
    expect(applyFrame(v, start)).toBe(true);
    expect(v).toMatchObject({ userId: 'user_0007', model: 'm', lastSeq: 1, status: 'starting' });
    expect(applyFrame(v, progress(2, 'calling'))).toBe(true);
    expect(applyFrame(v, chunk(3, 'ab'))).toBe(true);
    expect(v.status).toBe('streaming');
    expect(applyFrame(v, chunk(3, 'ab'))).toBe(false);
    expect(applyFrame(v, chunk(2, 'zz'))).toBe(false);
    expect(applyFrame(v, { ...chunk(4, 'x'), runId: 'run_otherrun' })).toBe(false);
    expect(applyFrame(v, progress(4, 'line_rejected'))).toBe(true);
    expect(applyFrame(v, chunk(5, 'c'))).toBe(true);
    expect(v.text).toBe('abc');
    expect(v.pieces).toBe(2);
    expect(v.rejected).toEqual([{ lineNo: 1, text: 'hi', code: 'prose', reason: 'prose' }]);
    expect(applyFrame(v, { type: 'done', runId, seq: 6, message: '抽象完成', ...outcome })).toBe(true);
    expect(v).toMatchObject({ status: 'done', lastSeq: 6, message: '抽象完成', durationMs: 40, error: null });
  });

  it('interrupted, error, cancelled and resumed statuses', () => {
    const v = createRunView(runId);
    applyFrame(v, start);
    const err = (seq: number, code: 'interrupted' | 'upstream_dropped'): RunFrame => ({
      type: 'error',
      runId,
      seq,
      code,
      message: code,
      retryable: true,
      ...outcome,
    });
    applyFrame(v, err(2, 'interrupted'));
    expect(v.status).toBe('interrupted');
    expect(v.error).toEqual({ code: 'interrupted', message: 'interrupted', retryable: true });
    applyFrame(v, progress(3, 'resumed'));
    expect(v.status).toBe('streaming');
    expect(v.error).toBeNull();
    applyFrame(v, { type: 'cancelled', runId, seq: 4, message: '已取消', reason: 'client', ...outcome });
    expect(v.status).toBe('cancelled');
    applyFrame(v, progress(5, 'resumed'));
    applyFrame(v, err(6, 'upstream_dropped'));
    expect(v.status).toBe('error');
    expect(v.error?.code).toBe('upstream_dropped');
  });
});

describe('applyFrame with a merge (long histories)', () => {
  it('drops the events a merged event replaces and keeps the merged one', () => {
    const v = createRunView('run_m');
    const ev = (lineNo: number, ids: string[]) => ({
      runId: 'run_m',
      userId: 'user_0007',
      eventType: '线上看车',
      startTime: '2026-01-10 20:00',
      endTime: '2026-01-10 20:40',
      sourceBehaviorIds: ids,
      summary: '浏览',
      lineNo,
    });
    applyFrame(v, { type: 'event', runId: 'run_m', seq: 1, event: ev(1, ['b1']), percent: 10 });
    applyFrame(v, { type: 'event', runId: 'run_m', seq: 2, event: ev(2, ['b9']), percent: 20 });
    applyFrame(v, {
      type: 'event',
      runId: 'run_m',
      seq: 3,
      event: ev(3, ['b1', 'b2']),
      percent: 30,
      replaces: [1],
    });
    expect(v.events.map((e) => e.lineNo)).toEqual([2, 3]);
    expect(v.events[1]!.sourceBehaviorIds).toEqual(['b1', 'b2']);
  });
});
