import { describe, expect, it } from 'vitest';
import type { Behaviour, ExtractedEvent } from '@app/shared';
import { validateEventLine } from '@app/shared';
import { generateDemoData } from '../data/demo-data.js';
import { deriveEventLines } from '../model/rules.js';
import { EventMerger } from '../runs/event-merger.js';
import { byTime, planChunks } from './chunk-plan.js';
import { renderBehaviour } from './prompt.js';

const USER = 'user_0099';
/** Every demo user's journey as one long history (~1,000 behaviours, many on a day). */
const LONG: Behaviour[] = generateDemoData().behaviours.map((b, i) => ({
  ...b,
  userId: USER,
  id: `b0099-${String(i + 1).padStart(4, '0')}`,
}));

const blockSize = (bs: Behaviour[]) => bs.reduce((n, b) => n + renderBehaviour(b).length + 1, 0);
const keyOf = (e: Pick<ExtractedEvent, 'eventType' | 'startTime' | 'endTime' | 'sourceBehaviorIds'>) =>
  `${e.eventType}|${e.startTime}|${e.endTime}|${e.sourceBehaviorIds.join(',')}`;

/** What the built-in model answers chunk by chunk, merged as a run merges it. */
function chunkedEvents(budget: number): { keys: string[]; merges: number; chunks: number } {
  const plan = planChunks(LONG, budget);
  const ids = plan.chunks.flat().map((b) => b.id);
  const ctx = { runId: 'run_x', userId: USER, behaviourIds: new Set(ids) };
  const merger = new EventMerger(
    ids,
    plan.chunks.map((c) => c.length),
  );
  let lineNo = 0;
  let merges = 0;
  for (const [i, chunk] of plan.chunks.entries()) {
    for (const line of deriveEventLines(USER, chunk)) {
      const r = validateEventLine(line, ++lineNo, ctx);
      if (r.kind !== 'event') throw new Error(`rule line rejected: ${line}`);
      if (merger.add(r.event, i + 1).replaces.length > 0) merges++;
    }
  }
  return { keys: merger.events.map(keyOf).sort(), merges, chunks: plan.chunks.length };
}

const reference = (): string[] =>
  deriveEventLines(USER, LONG)
    .map((l) => {
      const [, type, start, end, ids] = l.split('|');
      return `${type}|${start}|${end}|${ids}`;
    })
    .sort();

describe('planChunks', () => {
  it('keeps a history that fits as one chunk', () => {
    const short = LONG.slice(0, 20);
    expect(planChunks(short, 12_000).chunks).toEqual([byTime(short)]);
  });

  it('covers every behaviour once, in time order, each chunk within the budget, cut between days', () => {
    const plan = planChunks(LONG, 12_000);
    expect(plan.chunks.length).toBeGreaterThan(3);
    expect(plan.chunks.flat()).toEqual(byTime(LONG));
    for (const c of plan.chunks) expect(blockSize(c)).toBeLessThanOrEqual(12_000);
    for (let i = 1; i < plan.chunks.length; i++)
      expect(plan.chunks[i]![0]!.ts.slice(0, 10)).not.toBe(plan.chunks[i - 1]!.at(-1)!.ts.slice(0, 10));
  });

  it('cuts inside a day only when the day alone is over the budget, and stays within it', () => {
    const plan = planChunks(LONG, 700);
    expect(plan.chunks.flat()).toEqual(byTime(LONG));
    for (const c of plan.chunks) expect(blockSize(c)).toBeLessThanOrEqual(700);
    const sameDayCuts = plan.chunks
      .slice(1)
      .filter((c, i) => c[0]!.ts.slice(0, 10) === plan.chunks[i]!.at(-1)!.ts.slice(0, 10));
    expect(sameDayCuts.length).toBeGreaterThan(0);
  });
});

describe('chunked extraction with the built-in model, merged', () => {
  it('equals the extraction over the whole history when chunks are whole days', () => {
    const r = chunkedEvents(12_000);
    expect(r.chunks).toBeGreaterThan(3);
    expect(r.keys).toEqual(reference());
  });

  it('merges the events a cut inside a session split in two; every behaviour is cited once', () => {
    // Sessions over the budget are cut: the rule engine's events across such a cut are merged back.
    const r = chunkedEvents(300);
    expect(r.merges).toBeGreaterThan(0);
    const cited = r.keys.flatMap((k) => k.split('|')[3]!.split(','));
    expect(cited.sort()).toEqual(LONG.map((b) => b.id).sort());
    // Cuts between sessions may leave an event the whole history would have joined across the gap.
    expect(r.keys.length).toBeGreaterThanOrEqual(reference().length);
  });
});
