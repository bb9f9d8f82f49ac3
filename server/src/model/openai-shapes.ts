import { z } from 'zod';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

/** The parts of an OpenAI chat request this model reads; anything else is accepted and ignored. */
export const chatRequestSchema = z.looseObject({
  model: z.string().optional(),
  messages: z
    .array(
      z.looseObject({
        role: z.string(),
        content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
      }),
    )
    .min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Messages with content flattened to text (array parts joined), as the prompt parser wants them. */
export function textMessages(body: ChatRequest): { role: string; content: string }[] {
  return body.messages.map((m) => ({
    role: m.role,
    content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join(''),
  }));
}

/** OpenAI's error body shape. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const ERROR_KINDS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: 'invalid_request', message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  404: { type: 'invalid_request_error', code: 'not_found', message: 'Not found.' },
  405: { type: 'invalid_request_error', code: 'method_not_allowed', message: 'Method not allowed.' },
  413: { type: 'invalid_request_error', code: 'request_too_large', message: 'Request body too large.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached. Please retry later.' },
  500: { type: 'server_error', code: 'server_error', message: 'The server had an error.' },
  503: { type: 'server_error', code: 'service_unavailable', message: 'The engine is currently overloaded.' },
};

/** An OpenAI-style error body for an HTTP status, with an optional specific message and param. */
export function errorBody(status: number, message?: string, param: string | null = null): ErrorBody {
  const kind = ERROR_KINDS[status] ?? ERROR_KINDS[500]!;
  return { error: { message: message ?? kind.message, type: kind.type, param, code: kind.code } };
}

/** Token counts in OpenAI's usage shape. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Fields shared by every chunk and completion of one response. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/** One `chat.completion.chunk` for a delta, a finish, or (choices empty) the usage trailer. */
export function chunk(
  meta: ResponseMeta,
  delta: { role?: 'assistant'; content?: string } | null,
  finish: 'stop' | null = null,
  usage?: Usage,
): object {
  const choices = delta ? [{ index: 0, delta, logprobs: null, finish_reason: finish }] : [];
  const head = { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model };
  return { ...head, choices, ...(usage ? { usage } : {}) };
}

/** A complete non-streamed `chat.completion`. */
export function completion(meta: ResponseMeta, content: string, usage: Usage): object {
  const message = { role: 'assistant', content, refusal: null };
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
    usage,
  };
}

/** The SSE framing of one data message. */
export function sse(data: object | '[DONE]'): string {
  return `data: ${data === '[DONE]' ? data : JSON.stringify(data)}\n\n`;
}
