import { EventLineParser } from '@app/shared';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrompt } from '../llm/prompt.js';
import { deriveEventLines } from './rules.js';
import { startBuiltinModel, type BuiltinModel } from './server.js';
import { BEHAVIOURS, USER, lineProblem, withDeadline } from './test-fixtures.js';

let model: BuiltinModel;
let client: OpenAI;
const FULL = deriveEventLines(USER.id, BEHAVIOURS);
const prompt = (alreadyProduced: string[] = []) =>
  buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: 10_000, alreadyProduced }).messages;

beforeAll(async () => {
  model = await startBuiltinModel({ piecesPerSecond: 2000, firstPieceDelayMs: 0, seed: 7 });
  client = new OpenAI({ baseURL: model.baseURL, apiKey: 'x', maxRetries: 0, timeout: 5_000 });
});
afterAll(() => model.close());

async function streamed(messages: OpenAI.ChatCompletionMessageParam[]) {
  return withDeadline(5_000, async (signal) => {
    const stream = await client.chat.completions.create(
      { model: model.modelName, messages, stream: true, stream_options: { include_usage: true } },
      { signal },
    );
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    return chunks;
  });
}

describe('built-in model over HTTP', () => {
  it('streams exactly what it answers without streaming, deterministically', async () => {
    const chunks = await streamed(prompt());
    const pieces = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).filter((p) => p);
    const text = pieces.join('');
    expect(text).toBe(FULL.map((l) => `${l}\n`).join(''));
    expect(pieces.every((p) => p.length >= 1 && p.length <= 4)).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.at(-2)!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'builtin-rules-v1' });
    expect(chunks[0]!.id).toMatch(/^chatcmpl-/);

    const again = await streamed(prompt());
    expect(again.map((c) => c.choices[0]?.delta.content)).toEqual(
      chunks.map((c) => c.choices[0]?.delta.content),
    );

    const whole = await client.chat.completions.create(
      { model: 'any', messages: prompt() },
      { timeout: 5_000 },
    );
    expect(whole.object).toBe('chat.completion');
    expect(whole.choices[0]!.message.content).toBe(text);
    expect(whole.usage).toEqual(last.usage);
  });

  it('omits the usage chunk unless asked', async () => {
    const chunks = await withDeadline(5_000, async (signal) => {
      const s = await client.chat.completions.create(
        { model: 'm', messages: prompt(), stream: true },
        { signal },
      );
      const out: OpenAI.ChatCompletionChunk[] = [];
      for await (const c of s) out.push(c);
      return out;
    });
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true);
  });

  it('answers every line grounded in the prompt, as the product parser sees it', async () => {
    const whole = await client.chat.completions.create(
      { model: 'm', messages: prompt() },
      { timeout: 5_000 },
    );
    const ids = new Set(BEHAVIOURS.map((b) => b.id));
    const text = whole.choices[0]!.message.content!;
    const lines = text.split('\n').filter((l) => l);
    expect(lines.map((l) => lineProblem(l, USER.id, ids))).toEqual(lines.map(() => null));
    const parser = new EventLineParser({ runId: 'run_abcdef12', userId: USER.id, behaviourIds: ids });
    const parsed = [...parser.push(text), ...parser.end()].filter((p) => p.kind !== 'blank');
    expect(parsed.map((p) => p.kind)).toEqual(lines.map(() => 'event'));
  });

  it('resumes with only the remaining lines', async () => {
    for (const k of [1, 3, FULL.length - 1, FULL.length]) {
      const chunks = await streamed(prompt(FULL.slice(0, k)));
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      expect(text, `k=${k}`).toBe(
        FULL.slice(k)
          .map((l) => `${l}\n`)
          .join(''),
      );
    }
  });

  it('apologises in Chinese prose when the prompt has no behaviours block', async () => {
    const whole = await client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: '你好' }] },
      { timeout: 5_000 },
    );
    expect(whole.choices[0]!.message.content).toMatch(/^抱歉/);
  });

  it('rejects bad requests in OpenAI error shape and lists its model', async () => {
    const bad = await fetch(`${model.baseURL}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm' }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { type: 'invalid_request_error', param: 'messages', code: 'invalid_request' },
    });
    const notJson = await fetch(`${model.baseURL}/chat/completions`, {
      method: 'POST',
      body: '{',
      signal: AbortSignal.timeout(5_000),
    });
    expect(notJson.status).toBe(400);
    const missing = await fetch(`${model.baseURL}/nope`, { signal: AbortSignal.timeout(5_000) });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const models = await client.models.list({ timeout: 5_000 });
    expect(models.data.map((m) => m.id)).toEqual(['builtin-rules-v1']);
  });
});
