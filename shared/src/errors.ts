import { z } from 'zod';

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
  'import_in_progress',
  // the model upstream
  'upstream_rate_limited',
  'upstream_unavailable',
  'upstream_auth',
  'upstream_rejected',
  'upstream_dropped',
  'upstream_stalled',
  // the server itself
  'shutting_down',
  'interrupted',
  'storage_unavailable',
  'bus_unavailable',
  'internal',
] as const;

export const errorCodeSchema = z
  .enum(ERROR_CODES)
  .meta({ id: 'ErrorCode', description: 'Stable machine-readable error code; `message` is for people.' });
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** Codes where trying the same thing again later may succeed. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'too_many_runs',
  'import_in_progress',
  'upstream_rate_limited',
  'upstream_unavailable',
  'upstream_dropped',
  'upstream_stalled',
  'shutting_down',
  'interrupted',
  'storage_unavailable',
  'bus_unavailable',
  'internal',
]);

export const isRetryable = (code: ErrorCode): boolean => RETRYABLE_CODES.has(code);

/** Body of every non-2xx JSON response. */
export const apiErrorBodySchema = z
  .object({
    error: z.object({
      code: errorCodeSchema,
      message: z.string().describe('Human-readable explanation.'),
      details: z.unknown().optional().describe('Extra structured detail, e.g. per-row import problems.'),
    }),
  })
  .meta({ id: 'ApiError', description: 'Body of every non-2xx JSON response.' });
export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;
