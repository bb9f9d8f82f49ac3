import OpenAI, { APIError } from 'openai';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildPrompt } from '../llm/prompt.js';
import { answerText, type ClosedEvent } from './chat-handler.js';
import { startBuiltinModel, type BuiltinModel } from './server.js';
import { BEHAVIOURS, USER, closedOfNextRequest, withDeadline } from './test-fixtures.js';

let model: BuiltinModel;
let client: OpenAI;
const messages = buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: 10_000 }).messages;
const open = (signal: AbortSignal) =>
  client.chat.completions.create({ model: model.modelName, messages, stream: true }, { signal });

beforeAll(async () => {
  model = await startBuiltinModel({ piecesPerSecond: 1000, firstPieceDelayMs: 0 });
  client = new OpenAI({ baseURL: model.baseURL, apiKey: 'x', maxRetries: 0, timeout: 5_000 });
});
beforeEach(() => model.setPace({ piecesPerSecond: 1000, firstPieceDelayMs: 0 }));
afterAll(() => model.close());

async function statusOf(p: Promise<unknown>): Promise<APIError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return err as APIError;
}

describe('faults', () => {
  it('answers 429 with retry-after for the requested number of times, then recovers', async () => {
    model.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 2, times: 2 });
    for (let i = 0; i < 2; i++) {
      const err = await statusOf(withDeadline(5_000, open));
      expect(err.status).toBe(429);
      expect(err.headers?.get('retry-after')).toBe('2');
      expect(err.code).toBe('rate_limit_exceeded');
    }
    const ok = await client.chat.completions.create({ model: 'm', messages }, { timeout: 5_000 });
    expect(ok.choices[0]!.message.content).toContain('user_0007|');
  });

  it('answers 500 in OpenAI error shape', async () => {
    model.injectFault({ kind: 'status', status: 500 });
    const err = await statusOf(client.chat.completions.create({ model: 'm', messages }, { timeout: 5_000 }));
    expect(err.status).toBe(500);
    expect(err.error).toMatchObject({ type: 'server_error' });
  });

  it('drops the connection mid-stream so iteration throws', async () => {
    model.injectFault({ kind: 'drop', afterPieces: 10 });
    const closed = closedOfNextRequest<ClosedEvent>(model.events, 5_000);
    const got: string[] = [];
    const err = await withDeadline(5_000, async (signal) => {
      const stream = await open(signal);
      for await (const c of stream) got.push(c.choices[0]?.delta.content ?? '');
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(got.filter((p) => p)).toHaveLength(10);
    expect(await closed).toMatchObject({ piecesSent: 10, completed: false, byClient: false });
  });

  it('stalls: the stream goes quiet until the client gives up', async () => {
    model.injectFault({ kind: 'stall', afterPieces: 5 });
    const closed = closedOfNextRequest<ClosedEvent>(model.events, 5_000);
    const ac = new AbortController();
    let watchdog = setTimeout(() => ac.abort(), 1_000);
    const got: string[] = [];
    const stream = await open(ac.signal);
    const err = await (async () => {
      for await (const c of stream) {
        got.push(c.choices[0]?.delta.content ?? '');
        clearTimeout(watchdog);
        watchdog = setTimeout(() => ac.abort(), 300); // idle deadline: no piece for 300 ms means stalled
      }
    })().then(
      () => null,
      (e: unknown) => e,
    );
    clearTimeout(watchdog);
    expect(err).toBeNull(); // the SDK ends iteration quietly when its own signal aborts
    expect(ac.signal.aborted).toBe(true);
    expect(got.filter((p) => p)).toHaveLength(5);
    expect(await closed).toMatchObject({ piecesSent: 5, completed: false, byClient: true });
    expect(model.activeRequests()).toBe(0);
  });
});

describe('client abort and pace', () => {
  it('sees the client abort within 100 ms and stops', async () => {
    model.setPace({ piecesPerSecond: 100 });
    const ac = new AbortController();
    const deadline = setTimeout(() => ac.abort(), 5_000);
    const closed = closedOfNextRequest<ClosedEvent>(model.events, 5_000);
    const stream = await open(ac.signal);
    let n = 0;
    let abortedAt = 0;
    await (async () => {
      for await (const c of stream) {
        if (c.choices[0]?.delta.content && ++n === 5) {
          expect(model.activeRequests()).toBe(1);
          abortedAt = performance.now();
          stream.controller.abort();
        }
      }
    })().catch(() => undefined);
    clearTimeout(deadline);
    const e = await closed;
    expect(e).toMatchObject({ completed: false, byClient: true });
    expect(e.at - abortedAt).toBeLessThan(100);
    expect(e.piecesSent).toBeLessThan(20);
    expect(model.activeRequests()).toBe(0);
  });

  it('streams as fast as possible at pace 0 without starving the event loop', async () => {
    model.setPace({ piecesPerSecond: 0 });
    const many = Array.from({ length: 2000 }, (_, i) => ({
      ...BEHAVIOURS[i % BEHAVIOURS.length]!,
      id: `b${i}`,
      ts: new Date(Date.UTC(2026, 2, 1) + i * 97 * 60_000).toISOString().slice(0, 16).replace('T', ' '),
    }));
    const big = buildPrompt({ user: USER, behaviours: many, budgetChars: 1e6 }).messages;
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const text = await withDeadline(10_000, async (signal) => {
      const s = await client.chat.completions.create({ model: 'm', messages: big, stream: true }, { signal });
      let out = '';
      for await (const c of s) out += c.choices[0]?.delta.content ?? '';
      return out;
    });
    clearInterval(ticker);
    expect(text).toBe(answerText(big));
    expect(text.length).toBeGreaterThan(20_000);
    expect(ticks).toBeGreaterThan(2);
  });
});
