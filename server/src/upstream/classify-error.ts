import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ErrorCode } from '@app/shared';

export interface UpstreamFailure {
  code: ErrorCode;
  message: string;
  /** Worth another attempt within the same run (only before the first piece). */
  retryable: boolean;
  /** Server-advised wait, from Retry-After. */
  retryAfterMs: number | null;
}

/** Maps what the `openai` SDK throws to a stable code. */
export function classifyUpstreamError(err: unknown, receivedAny: boolean): UpstreamFailure {
  if (err instanceof APIConnectionTimeoutError) {
    return {
      code: 'upstream_stalled',
      message: 'The model did not answer in time.',
      retryable: false,
      retryAfterMs: null,
    };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const detail = `model endpoint answered HTTP ${status}: ${err.message}`;
    if (status === 429)
      return {
        code: 'upstream_rate_limited',
        message: detail,
        retryable: true,
        retryAfterMs: retryAfter(err.headers),
      };
    if (status >= 500)
      return {
        code: 'upstream_unavailable',
        message: detail,
        retryable: true,
        retryAfterMs: retryAfter(err.headers),
      };
    if (status === 401 || status === 403)
      return { code: 'upstream_auth', message: detail, retryable: false, retryAfterMs: null };
    return { code: 'upstream_rejected', message: detail, retryable: false, retryAfterMs: null };
  }
  if (err instanceof APIConnectionError && !receivedAny) {
    return {
      code: 'upstream_unavailable',
      message: `Cannot reach the model endpoint: ${err.message}`,
      retryable: true,
      retryAfterMs: null,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: 'upstream_dropped',
    message: `The model connection broke mid-answer: ${message}`,
    retryable: false,
    retryAfterMs: null,
  };
}

/** Retry-After as seconds or an HTTP date, in ms; null when absent or unreadable. */
export function retryAfter(headers: Headers | undefined): number | null {
  const raw = headers?.get('retry-after');
  if (!raw) return null;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** Full-jitter exponential backoff, or the server's advice when it gave one; capped. */
export function retryDelayMs(
  attempt: number,
  advisedMs: number | null,
  baseMs: number,
  maxMs: number,
): number {
  if (advisedMs !== null) return Math.min(advisedMs, maxMs);
  return Math.round(Math.random() * Math.min(maxMs, baseMs * 2 ** attempt));
}
