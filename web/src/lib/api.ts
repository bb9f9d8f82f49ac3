import type { z } from 'zod';
import {
  apiErrorBodySchema,
  eventPageSchema,
  healthSchema,
  runDetailSchema,
  runPageSchema,
  sessionResponseSchema,
  userDetailSchema,
  userPageSchema,
  type SessionRequest,
} from '@app/shared';

// The shapes are the shared schemas' (one declaration for server, clients and the OpenAPI document).
export type { EventPage, Health, RunPage, UserDetail, UserListItem, UserPage } from '@app/shared';

/** Same origin as the UI: the server serves both (server/src/http/static-ui.ts). */
export const API_BASE = '/api/v1';

/** A non-2xx answer, with the server's stable error code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const unauthorizedListeners = new Set<() => void>();

/** Called whenever the server answers 401 (it has API_TOKEN and we have no valid cookie). */
export function onUnauthorized(cb: () => void): () => void {
  unauthorizedListeners.add(cb);
  return () => unauthorizedListeners.delete(cb);
}

/**
 * The one way this UI talks REST: JSON in, JSON out parsed with the route's schema (never cast),
 * errors as {@link ApiError}.
 */
export async function send<S extends z.ZodType>(
  method: 'GET' | 'POST',
  path: string,
  schema: S,
  body?: unknown,
  signal?: AbortSignal,
): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
  }
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    if (res.status === 401) for (const cb of unauthorizedListeners) cb();
    const e = apiErrorBodySchema.safeParse(data);
    throw new ApiError(
      res.status,
      e.success ? e.data.error.code : 'http_error',
      e.success ? e.data.error.message : `${method} ${path}: HTTP ${res.status}`,
    );
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new ApiError(res.status, 'invalid_response', `${method} ${path}: ${parsed.error.message}`);
  }
  return parsed.data;
}

const qs = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

export const api = {
  health: (signal?: AbortSignal) => send('GET', '/health', healthSchema, undefined, signal),
  session: (token: string) =>
    send('POST', '/session', sessionResponseSchema, { token } satisfies SessionRequest),
  users: (q: string, limit: number, offset: number, signal?: AbortSignal) =>
    send('GET', `/users${qs({ q, limit, offset })}`, userPageSchema, undefined, signal),
  user: (id: string, signal?: AbortSignal) =>
    send('GET', `/users/${encodeURIComponent(id)}`, userDetailSchema, undefined, signal),
  runs: (userId: string | undefined, limit = 50, offset = 0, signal?: AbortSignal) =>
    send('GET', `/runs${qs({ userId, limit, offset })}`, runPageSchema, undefined, signal),
  run: (id: string, signal?: AbortSignal) =>
    send('GET', `/runs/${encodeURIComponent(id)}`, runDetailSchema, undefined, signal),
  events: (filter: { userId?: string; runId?: string }, signal?: AbortSignal) =>
    send('GET', `/events${qs(filter)}`, eventPageSchema, undefined, signal),
};

/** Download link of the events export (a plain <a href download>, streamed by the server). */
export const exportUrl = (format: 'csv' | 'jsonl', userId?: string): string =>
  `${API_BASE}/events/export${qs({ format, userId })}`;
