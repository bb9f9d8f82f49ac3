import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parsePrompt } from '../llm/prompt.js';
import type { FaultQueue } from './faults.js';
import { chunk, completion, errorBody, sse, textMessages, type ChatRequest } from './openai-shapes.js';
import { Pacer, type Pace } from './pacer.js';
import { deriveEventLines, remainingLines } from './rules.js';
import { mulberry32 } from '@app/shared';
import { estimatePromptTokens, estimateTokens, hash32, splitPieces } from './text-pieces.js';

/** Payload of the model's 'request' event. */
export interface RequestEvent {
  id: string;
  stream: boolean;
  body: ChatRequest;
}

/** Payload of the model's 'closed' event: how a chat response ended. */
export interface ClosedEvent {
  id: string;
  piecesSent: number;
  completed: boolean;
  /** performance.now() when the connection closed. */
  at: number;
  /** True when the client went away before the response was complete. */
  byClient: boolean;
}

/** Shared state of one running model. */
export interface ChatContext {
  modelName: string;
  seed: number;
  pace: () => Pace;
  faults: FaultQueue;
  events: EventEmitter;
  /** In-flight chat responses, so close() and setPace() can reach them. */
  active: Map<string, { pacer: Pacer; cut: () => void }>;
}

const APOLOGY =
  '抱歉，我没有在请求中找到可解析的用户资料和行为日志，因此无法生成事件。请按约定格式提供后再试。';

/** The whole answer for a conversation: the rule engine's lines minus those already produced. */
export function answerText(messages: { role: string; content: string }[]): string {
  const parsed = parsePrompt(messages);
  if (!parsed) return APOLOGY;
  const lines = remainingLines(deriveEventLines(parsed.userId, parsed.behaviours), parsed.alreadyProduced);
  return lines.map((l) => `${l}\n`).join('');
}

/** Serves one validated chat completion request, streamed or not, playing out a queued fault. */
export function handleChat(ctx: ChatContext, body: ChatRequest, res: ServerResponse): void {
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const stream = body.stream === true;
  ctx.events.emit('request', { id, stream, body } satisfies RequestEvent);
  const messages = textMessages(body);
  const text = answerText(messages);
  const pieces = splitPieces(text, mulberry32((hash32(JSON.stringify(messages)) ^ ctx.seed) >>> 0));
  const prompt = estimatePromptTokens(messages);
  const usage = { prompt_tokens: prompt, completion_tokens: estimateTokens(text), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const meta = { id, created: Math.floor(Date.now() / 1000), model: ctx.modelName };
  const fault = ctx.faults.take();
  let completed = false;
  let destroyedByUs = false;

  const pacer = new Pacer({
    count: pieces.length,
    pace: ctx.pace,
    out: res,
    step: (i) => (stream ? res.write(sse(chunk(meta, { content: pieces[i]! }))) : true),
    ...(fault && fault.kind !== 'status' ? { cutAt: Math.max(0, fault.afterPieces) } : {}),
    onCut: () => {
      if (fault?.kind === 'drop') cut(true); // a stall just goes quiet until the client gives up
    },
    onDone: () => {
      completed = true;
      if (!stream) return sendJson(res, 200, completion(meta, text, usage));
      res.write(sse(chunk(meta, {}, 'stop')));
      if (body.stream_options?.include_usage) res.write(sse(chunk(meta, null, null, usage)));
      res.end(sse('[DONE]'));
    },
  });
  const cut = (flush = false): void => {
    destroyedByUs = true;
    // A drop flushes what was already written first, so the client sees exactly `afterPieces`.
    const socket = res.socket;
    if (flush && socket) socket.end(() => socket.destroy());
    else res.destroy();
  };
  ctx.active.set(id, { pacer, cut });
  // 'close' covers every ending: finished, destroyed by a fault, or the client going away.
  res.once('close', () => {
    pacer.stop();
    ctx.active.delete(id);
    const byClient = !destroyedByUs && !res.writableFinished;
    const piecesSent = stream || completed ? pacer.sent : 0;
    ctx.events.emit('closed', {
      id,
      piecesSent,
      completed,
      at: performance.now(),
      byClient,
    } satisfies ClosedEvent);
  });

  if (fault?.kind === 'status') {
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    return sendJson(res, fault.status, errorBody(fault.status), headers);
  }
  if (stream) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': id,
    });
    res.write(sse(chunk(meta, { role: 'assistant', content: '' })));
  }
  pacer.start();
}

/** Writes a JSON response (raw UTF-8) and ends it. */
export function sendJson(
  res: ServerResponse,
  status: number,
  payload: object,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(JSON.stringify(payload), 'utf8');
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(data.length),
    ...headers,
  });
  res.end(data);
}
