import type { ApiErrorBody } from '../errors.js';
import { isTerminalFrame, type RunFrame } from '../frames.js';
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
}): () => void {
  let last = opts.after;
  let lastWasTerminal = false;
  let ended = false;
  const url = `${opts.baseUrl.replace(/\/$/, '')}/api/v1/runs/${encodeURIComponent(opts.runId)}/stream?after=${opts.after}`;
  const es = new opts.EventSource(url);
  es.onmessage = (ev) => {
    const f = JSON.parse(ev.data) as RunFrame;
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

async function post<T>(baseUrl: string, path: string, body: unknown, opts: RestOptions): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await (opts.fetch ?? fetch)(`${baseUrl.replace(/\/$/, '')}/api/v1${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body ?? {}),
  });
  const json = (await res.json().catch(() => null)) as (T & Partial<ApiErrorBody>) | null;
  if (!res.ok || !json) {
    const e = json?.error;
    throw new ClientError(e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, res.status >= 500);
  }
  return json;
}

/** Starts a run without a WebSocket (POST /api/v1/runs); watch it with {@link watchRunSse}. */
export async function startRunRest(
  baseUrl: string,
  userId: string,
  opts: RestOptions & { key?: string } = {},
): Promise<{ runId: string }> {
  const { key, ...rest } = opts;
  const r = await post<{ runId: string }>(baseUrl, '/runs', key ? { userId, key } : { userId }, rest);
  return { runId: r.runId };
}

/** Cancels a running run (POST /api/v1/runs/{id}/cancel). */
export async function cancelRunRest(baseUrl: string, runId: string, opts: RestOptions = {}): Promise<void> {
  await post(baseUrl, `/runs/${encodeURIComponent(runId)}/cancel`, {}, opts);
}

/** Resumes a cancelled or interrupted run (POST /api/v1/runs/{id}/resume); resolves its last seq then. */
export async function resumeRunRest(
  baseUrl: string,
  runId: string,
  opts: RestOptions = {},
): Promise<{ lastSeq: number }> {
  const r = await post<{ lastSeq: number }>(baseUrl, `/runs/${encodeURIComponent(runId)}/resume`, {}, opts);
  return { lastSeq: r.lastSeq };
}
