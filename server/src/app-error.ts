import type { ErrorCode } from '@app/shared';

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  invalid_json: 400,
  invalid_message: 400,
  invalid_cursor: 400,
  import_invalid: 422,
  unauthorized: 401,
  forbidden_origin: 403,
  host_not_allowed: 403,
  user_not_found: 404,
  run_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  run_not_running: 409,
  run_not_resumable: 409,
  message_too_large: 413,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_runs: 429,
  shutting_down: 503,
  storage_unavailable: 503,
  bus_unavailable: 503,
};

/** An expected failure with a stable code; transports turn it into a JSON body or an error frame. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = STATUS[code] ?? 500;
  }
}
