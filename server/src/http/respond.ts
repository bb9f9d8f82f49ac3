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

/** Parses a query integer within bounds, or throws a 400 that names the parameter. */
export function intParam(c: Context, name: string, def: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return def;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new AppError('bad_request', `Query parameter ${name} must be an integer from ${min} to ${max}.`);
  }
  return Number(raw);
}
