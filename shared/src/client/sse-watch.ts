import type { z } from 'zod';
import { apiErrorBodySchema } from '../errors.js';
import { isTerminalFrame, RUN_FRAME_TYPES, runFrameSchema, type RunFrame } from '../frames.js';
import {
  cancelRunResponseSchema,
  resumeRunResponseSchema,
  startRunResponseSchema,
  type StartRunRequest,
} from '../rest/index.js';
import { parseMessage, warnInvalid, type InvalidMessage } from './parse-message.js';
import { ClientError } from './types.js';

/** The part of EventSource used here; the DOM's (and polyfills) satisfy it. */
export interface EventSourceLike {
  readonly readyState: number;
  onmessage: { bivarianceHack(ev: { data: string; lastEventId?: string }): void }['bivarianceHack'] | null;
  onerror: { bivarianceHack(ev: unknown): void }['bivarianceHack'] | null;
  close(): void;
}

/** An EventSource constructor, injected (Node 20 has none). */
export type EventSourceCtor = new (url: string) => EventSourceLike;

const CLOSED = 2;

/**
 * Watches a run over SSE, for networks that block WebSockets: frames after `after`, then live ones.
 * EventSource reconnects by itself with Last-Event-ID (the same seq cursor); frames at or below the
 * last one seen are dropped. Ends (calling `onEnd`) when the server closes the stream of a settled run,
 * or has nothing more (204). Returns a function that stops watching. To follow a resumed run, watch
 * again from the last seq.
 */
export function watchRunSse(opts: {
  baseUrl: string;
  runId: string;
  after: number;
  EventSource: EventSourceCtor;
  onFrame(f: RunFrame): void;
  onEnd?(): void;
  /** A message that is not a valid frame (ignored); default `console.warn`. */
  onInvalidMessage?(m: InvalidMessage): void;
}): () => void {
  let last = opts.after;
  let lastWasTerminal = false;
  let ended = false;
  const url = `${opts.baseUrl.replace(/\/$/, '')}/api/v1/runs/${encodeURIComponent(opts.runId)}/stream?after=${opts.after}`;
  const es = new opts.EventSource(url);
  es.onmessage = (ev) => {
    const parsed = parseMessage(ev.data, runFrameSchema, RUN_FRAME_TYPES);
    if (!parsed.ok) {
      if (opts.onInvalidMessage) opts.onInvalidMessage(parsed.invalid);
      else warnInvalid('watchRunSse', parsed.invalid);
      return;
    }
    const f = parsed.msg;
    if (ended || f.seq <= last) return;
    last = f.seq;
    lastWasTerminal = isTerminalFrame(f);
    opts.onFrame(f);
  };
  // The server ends the response only once the run settled and all was sent; a terminal frame
  // mid-log (cancelled, then resumed) is followed by more frames, so the end of the response decides.
  es.onerror = () => {
    if (ended || (es.readyState !== CLOSED && !lastWasTerminal)) return;
    ended = true;
    es.close();
    opts.onEnd?.();
  };
  return () => {
    ended = true;
    es.close();
  };
}

/** Options of the REST helpers: a bearer token and a fetch to use (default the global one). */
export interface RestOptions {
  token?: string;
  fetch?: typeof fetch;
}

/** POSTs JSON and parses the answer with `schema`; an error body (or a body that fits neither) throws. */
async function post<S extends z.ZodType>(
  baseUrl: string,
  path: string,
  body: unknown,
  schema: S,
  opts: RestOptions,
): Promise<z.infer<S>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await (opts.fetch ?? fetch)(`${baseUrl.replace(/\/$/, '')}/api/v1${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body ?? {}),
  });
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const e = apiErrorBodySchema.safeParse(json);
    const message = e.success ? e.data.error.message : `HTTP ${res.status}`;
    throw new ClientError(e.success ? e.data.error.code : 'internal', message, res.status >= 500);
  }
  const ok = schema.safeParse(json);
  if (!ok.success)
    throw new ClientError('internal', `POST ${path}: unexpected answer (${ok.error.message}).`);
  return ok.data;
}

/** Starts a run without a WebSocket (POST /api/v1/runs); watch it with {@link watchRunSse}. */
export async function startRunRest(
  baseUrl: string,
  userId: string,
  opts: RestOptions & { key?: string } = {},
): Promise<{ runId: string }> {
  const { key, ...rest } = opts;
  const body: StartRunRequest = key ? { userId, key } : { userId };
  const r = await post(baseUrl, '/runs', body, startRunResponseSchema, rest);
  return { runId: r.runId };
}

/** Cancels a running run (POST /api/v1/runs/{id}/cancel). */
export async function cancelRunRest(baseUrl: string, runId: string, opts: RestOptions = {}): Promise<void> {
  await post(baseUrl, `/runs/${encodeURIComponent(runId)}/cancel`, {}, cancelRunResponseSchema, opts);
}

/** Resumes a cancelled or interrupted run (POST /api/v1/runs/{id}/resume); resolves its last seq then. */
export async function resumeRunRest(
  baseUrl: string,
  runId: string,
  opts: RestOptions = {},
): Promise<{ lastSeq: number }> {
  const path = `/runs/${encodeURIComponent(runId)}/resume`;
  const r = await post(baseUrl, path, {}, resumeRunResponseSchema, opts);
  return { lastSeq: r.lastSeq };
}
