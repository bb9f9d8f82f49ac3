/**
 * Stable error codes shared by HTTP bodies, SSE/WS `error` frames and the WS channel.
 * Clients branch on `code`; `message` is for people and may change.
 */
export const ERROR_CODES = [
  // request shape
  'bad_request',
  'invalid_json',
  'unknown_type',
  'invalid_message',
  'binary_not_supported',
  'message_too_large',
  'payload_too_large',
  'invalid_cursor',
  'method_not_allowed',
  'not_found',
  'unsupported_media_type',
  // access
  'unauthorized',
  'forbidden_origin',
  'host_not_allowed',
  // resources and state
  'user_not_found',
  'run_not_found',
  'run_not_running',
  'run_not_resumable',
  'too_many_runs',
  'import_invalid',
  // the model upstream
  'upstream_rate_limited',
  'upstream_unavailable',
  'upstream_auth',
  'upstream_rejected',
  'upstream_dropped',
  'upstream_stalled',
  // the server itself
  'interrupted',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes where trying the same thing again later may succeed. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'too_many_runs',
  'upstream_rate_limited',
  'upstream_unavailable',
  'upstream_dropped',
  'upstream_stalled',
  'interrupted',
  'internal',
]);

export const isRetryable = (code: ErrorCode): boolean => RETRYABLE_CODES.has(code);

/** Body of every non-2xx JSON response. */
export interface ApiErrorBody {
  error: {
    /** Stable machine-readable code. */
    code: ErrorCode;
    /** Human-readable explanation. */
    message: string;
    /** Extra structured detail, e.g. per-row import problems. */
    details?: unknown;
  };
}
