import type { Context } from 'hono';
import { validator } from 'hono-openapi';
import type { z } from 'zod';
import { AppError } from '../../app-error.js';

type Target = 'param' | 'query' | 'header';
const LABEL: Record<Target, string> = { param: 'Path parameter', query: 'Query parameter', header: 'Header' };

/**
 * Validates a part of the request with its shared zod schema (which also documents it in the OpenAPI
 * document); a mismatch is `400 bad_request` naming the parameter.
 */
export function valid<T extends Target, S extends z.ZodType>(target: T, schema: S) {
  return validator(target, schema, (result, _c: Context) => {
    if (result.success) return;
    const why = result.error
      .map((i) => {
        const name = (i.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)).join('.');
        return `${LABEL[target]} ${name}: ${i.message}`;
      })
      .join('; ');
    throw new AppError('bad_request', `${why}.`);
  });
}
