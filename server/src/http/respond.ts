import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiErrorBody, ErrorCode } from '@app/shared';
import { AppError } from '../app-error.js';

/** The one shape of every error response. */
export function errorJson(
  c: Context,
  status: number,
  code: ErrorCode,
  message: string,
  details?: unknown,
): Response {
  const body: ApiErrorBody = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  return c.json(body, status as ContentfulStatusCode);
}

export function appErrorJson(c: Context, err: AppError): Response {
  return errorJson(c, err.status, err.code, err.message, err.details);
}
