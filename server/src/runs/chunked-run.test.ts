import { describe, expect, it } from 'vitest';
import type { RunFrame } from '@app/shared';
import { planChunks } from '../llm/chunk-plan.js';
import { parsePrompt, renderBehaviour } from '../llm/prompt.js';
import type { ClosedEvent, RequestEvent } from '../model/index.js';
import { deriveEventLines } from '../model/rules.js';
import { deadline } from '../test-support/test-server.js';
import { eventKeys, getRun, oneTo, seqs, storedFrames, textOf, useWsServer } from '../ws/test-ws-client.js';

const BUDGET = 420;
const USER = 'user_0007';

describe('a history longer than one prompt', () => {
  // A small budget splits a demo user's history into several chunks; every settled run leaves memory.
  const ws = useWsServer({
    PROMPT_BUDGET_CHARS: BUDGET,
    SETTLED_RUNS_IN_MEMORY: 0,
    BUILTIN_PIECES_PER_SECOND: 800,
    BUILTIN_FIRST_PIECE_MS: 0,
  });

  /** The built-in model's extraction of the whole history in one go. */
  const reference = async () => {
    const behaviours = await ws.server.ctx.users.behaviours(USER);
    return deriveEventLines(USER, behaviours)
      .map((l) => l.split('|').slice(1, 5).join('|'))
      .sort();
  };
  const keys = async (runId: string) => eventKeys(await getRun(ws.server, runId)).sort();

  it('covers every behaviour in one run and one log, chunk by chunk, with the whole history’s events', async () => {
    const behaviours = await ws.server.ctx.users.behaviours(USER);
    const plan = planChunks(behaviours, BUDGET);
    expect(plan.chunks.length).toBeGreaterThan(2);
    const prompts: RequestEvent[] = [];
    const onRequest = (r: RequestEvent) => prompts.push(r);
    ws.server.builtin!.events.on('request', onRequest);
    const c = await ws.connect();
    try {
      const runId = await c.start(USER);
      const frames = await c.settled(runId, 20_000);
      expect(seqs(frames)).toEqual(oneTo(frames.length));
      const start = frames[0]!;
      expect(start).toMatchObject({ type: 'start', behaviourCount: behaviours.length, truncated: null });
      if (start.type !== 'start') throw new Error();
      expect(start.chunks).toEqual(plan.chunks.map((ch) => ch.length));
      const chunkFrames = frames.filter((f) => f.type === 'progress' && f.stage === 'chunk');
      expect(chunkFrames.map((f) => f.type === 'progress' && f.chunk?.index)).toEqual(
        oneTo(plan.chunks.length),
      );
      const percents = frames.flatMap((f) => ('percent' in f ? [f.percent] : []));
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      const done = frames.at(-1)!;
      expect(done).toMatchObject({ type: 'done', chunks: plan.chunks.length });
      expect(percents.at(-1)).toBe(100);
      // Each chunk is one call; every prompt's behaviour block stays within the budget.
      expect(prompts).toHaveLength(plan.chunks.length);
      for (const p of prompts) {
        const parsed = parsePrompt(p.body.messages as { role: string; content: string }[])!;
        const block = parsed.behaviours.map((b) => renderBehaviour({ ...b, userId: USER }).length + 1);
        expect(block.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BUDGET);
      }
      expect(await keys(runId)).toEqual(await reference());
      const stored = await getRun(ws.server, runId);
      expect(stored.text).toBe(textOf(frames));
      expect(await storedFrames(ws.server, runId)).toEqual(c.rawFrames(runId));
    } finally {
      ws.server.builtin!.events.off('request', onRequest);
    }
  });

  it('cancel stops every chunk call in flight; resume at any moment ends with the same events', async () => {
    const want = await reference();
    const c = await ws.connect();
    const { builtin } = ws.server;
    let cancels = 0;
    let mostInFlight = 0;
    // Moments: right after the start, inside a chunk, while two chunks stream at once, near the end.
    for (const afterChunks of [0, 9, 40, 120]) {
      builtin!.setPace({ piecesPerSecond: 150 });
      const runId = await c.start(USER);
      const pieces = () => c.frames(runId).filter((f) => f.type === 'llm_chunk').length;
      await c.until(() => (pieces() >= afterChunks ? true : undefined), 10_000, `${afterChunks} pieces`);
      const closed: ClosedEvent[] = [];
      const onClosed = (e: ClosedEvent) => closed.push(e);
      builtin!.events.on('closed', onClosed);
      const inFlight = builtin!.activeRequests();
      mostInFlight = Math.max(mostInFlight, inFlight);
      const t0 = performance.now();
      const ack = await c.request({ type: 'cancel', runId });
      if (ack.type === 'ack') {
        cancels++;
        await c.settled(runId);
        await deadline(
          (async () => {
            while (builtin!.activeRequests() > 0) await new Promise((r) => setTimeout(r, 5));
          })(),
          1000,
          'every chunk call to close',
        );
        builtin!.events.off('closed', onClosed);
        expect(closed.length).toBeGreaterThanOrEqual(Math.min(inFlight, 1));
        for (const e of closed) expect(e.at - t0).toBeLessThan(100);
        builtin!.setPace({ piecesPerSecond: 800 });
        expect((await c.request({ type: 'resume', runId })).type).toBe('ack');
      } else {
        builtin!.events.off('closed', onClosed);
      }
      await c.until(() => (c.frames(runId).at(-1)?.type === 'done' ? true : undefined), 20_000, 'done');
      const frames: RunFrame[] = c.frames(runId);
      expect(seqs(frames)).toEqual(oneTo(frames.length));
      expect(await keys(runId), `cancelled after ${afterChunks} pieces`).toEqual(want);
      expect((await getRun(ws.server, runId)).text).toBe(textOf(frames));
    }
    expect(cancels).toBeGreaterThanOrEqual(3);
    // Chunks ran two at a time (CHUNK_CONCURRENCY) when a cancel came.
    expect(mostInFlight).toBe(2);
  }, 90_000);
});

describe('the 5,000-behaviour demo user', () => {
  // As fast as the built-in model goes, at the default budget.
  const ws = useWsServer({ BUILTIN_PIECES_PER_SECOND: 0, BUILTIN_FIRST_PIECE_MS: 0 });

  it('is covered whole: every behaviour, the whole history’s events, no duplicate at a boundary', async () => {
    const user = 'user_0063';
    const behaviours = await ws.server.ctx.users.behaviours(user);
    expect(behaviours.length).toBe(5000);
    const prompts: RequestEvent[] = [];
    const onRequest = (r: RequestEvent) => prompts.push(r);
    ws.server.builtin!.events.on('request', onRequest);
    const c = await ws.connect();
    try {
      const runId = await c.start(user);
      const frames = await c.settled(runId, 120_000);
      expect(seqs(frames)).toEqual(oneTo(frames.length));
      expect(frames.at(-1)).toMatchObject({ type: 'done' });
      const budget = ws.server.ctx.config.PROMPT_BUDGET_CHARS;
      for (const p of prompts) {
        const parsed = parsePrompt(p.body.messages as { role: string; content: string }[])!;
        const block = parsed.behaviours.map((b) => renderBehaviour({ ...b, userId: user }).length + 1);
        expect(block.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(budget);
      }
      const stored = await getRun(ws.server, runId);
      const cited = new Set(stored.events.flatMap((e) => e.sourceBehaviorIds));
      expect(cited.size).toBe(5000);
      const want = deriveEventLines(user, behaviours).map((l) => l.split('|').slice(1, 5).join('|'));
      const got = eventKeys(stored);
      expect(new Set(got).size).toBe(got.length);
      expect(got.sort()).toEqual(want.sort());
      console.log(
        `5,000 behaviours: ${prompts.length} chunks, ${frames.length} frames, ${stored.events.length} events`,
      );
    } finally {
      ws.server.builtin!.events.off('request', onRequest);
    }
  }, 150_000);
});

describe('EXTRACTION_PASSES=2', () => {
  const ws = useWsServer({
    PROMPT_BUDGET_CHARS: BUDGET,
    EXTRACTION_PASSES: 2,
    BUILTIN_PIECES_PER_SECOND: 0,
    BUILTIN_FIRST_PIECE_MS: 0,
  });

  it('reviews each chunk against its first-pass events after that chunk, and keeps the result grounded', async () => {
    const behaviours = await ws.server.ctx.users.behaviours(USER);
    const n = planChunks(behaviours, BUDGET).chunks.length;
    const prompts: RequestEvent[] = [];
    const onRequest = (r: RequestEvent) => prompts.push(r);
    ws.server.builtin!.events.on('request', onRequest);
    const c = await ws.connect();
    try {
      const runId = await c.start(USER);
      const frames = await c.settled(runId, 20_000);
      expect(frames.at(-1)).toMatchObject({ type: 'done', chunks: 2 * n, passes: 2 });
      const passes = frames.flatMap((f) =>
        f.type === 'progress' && f.stage === 'chunk' ? [`${f.chunk!.pass}:${f.chunk!.index}`] : [],
      );
      expect(passes).toEqual([...oneTo(n).map((i) => `1:${i}`), ...oneTo(n).map((i) => `2:${n + i}`)]);
      expect(prompts).toHaveLength(2 * n);
      // The review prompts list the first pass's events of their chunk, with their behaviours.
      const reviews = prompts
        .slice(n)
        .map((p) => parsePrompt(p.body.messages as { role: string; content: string }[])!);
      const stored = await getRun(ws.server, runId);
      for (const r of reviews) {
        const ids = new Set(r.behaviours.map((b) => b.id));
        const expected = stored.events.filter((e) => e.sourceBehaviorIds.some((id) => ids.has(id)));
        expect(r.alreadyProduced).toHaveLength(expected.length);
      }
      expect(reviews.some((r) => r.alreadyProduced.length > 0)).toBe(true);
      const own = new Set(behaviours.map((b) => b.id));
      for (const e of stored.events) for (const id of e.sourceBehaviorIds) expect(own.has(id)).toBe(true);
      const want = deriveEventLines(USER, behaviours).map((l) => l.split('|').slice(1, 5).join('|'));
      expect(eventKeys(stored).sort()).toEqual(want.sort());
    } finally {
      ws.server.builtin!.events.off('request', onRequest);
    }
  });
});
