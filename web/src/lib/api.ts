import type {
  ApiErrorBody,
  Behaviour,
  ExtractedEvent,
  RunDetail,
  RunStatus,
  RunSummary,
  User,
} from '@app/shared';

/** Same origin as the UI: the server serves both (server/src/http/static-ui.ts). */
export const API_BASE = '/api/v1';

export interface UserListItem extends User {
  behaviourCount: number;
  lastRun: { id: string; status: RunStatus; createdAt: string } | null;
}

export interface UserDetail extends User {
  behaviours: Behaviour[];
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Health {
  status: string;
  startedAt: string;
  protocol: number;
  model: { name: string; builtin: boolean; baseURL: string };
  runningRuns: number;
  users: number;
  auth: boolean;
}

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

/** The one way this UI talks REST: JSON in, JSON out, errors as {@link ApiError}. */
export async function send<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
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
    const e = (data as Partial<ApiErrorBody> | null)?.error;
    throw new ApiError(
      res.status,
      e?.code ?? 'http_error',
      e?.message ?? `${method} ${path}: HTTP ${res.status}`,
    );
  }
  return data as T;
}

const qs = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

export const api = {
  health: (signal?: AbortSignal) => send<Health>('GET', '/health', undefined, signal),
  session: (token: string) => send<{ auth: boolean }>('POST', '/session', { token }),
  users: (q: string, limit: number, offset: number, signal?: AbortSignal) =>
    send<Page<UserListItem>>('GET', `/users${qs({ q, limit, offset })}`, undefined, signal),
  user: (id: string, signal?: AbortSignal) =>
    send<UserDetail>('GET', `/users/${encodeURIComponent(id)}`, undefined, signal),
  runs: (userId: string | undefined, limit = 50, offset = 0, signal?: AbortSignal) =>
    send<Page<RunSummary>>('GET', `/runs${qs({ userId, limit, offset })}`, undefined, signal),
  run: (id: string, signal?: AbortSignal) =>
    send<RunDetail>('GET', `/runs/${encodeURIComponent(id)}`, undefined, signal),
  events: (filter: { userId?: string; runId?: string }, signal?: AbortSignal) =>
    send<Page<ExtractedEvent>>('GET', `/events${qs(filter)}`, undefined, signal),
};

/** Download link of the events export (a plain <a href download>, streamed by the server). */
export const exportUrl = (format: 'csv' | 'jsonl', userId?: string): string =>
  `${API_BASE}/events/export${qs({ format, userId })}`;
