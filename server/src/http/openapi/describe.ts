import type { MiddlewareHandler } from 'hono';
import { describeRoute, resolver } from 'hono-openapi';
import type { z } from 'zod';
import { apiErrorBodySchema } from '@app/shared';

/** One documented answer of a route: a JSON body and its schema, or another media type (a stream). */
export interface Reply {
  description: string;
  json?: z.ZodType;
  /** Media type → schema of its body (or of each item of a stream), null when it has none to show. */
  media?: Record<string, z.ZodType | null>;
}

/** A JSON answer. */
export const json = (schema: z.ZodType, description: string): Reply => ({ description, json: schema });
/** An error answer: `{ error: { code, message } }`, the codes it may carry named in `description`. */
export const problem = (description: string): Reply => ({ description, json: apiErrorBodySchema });
/** A streamed or non-JSON answer, in one or more media types. */
export const media = (types: Record<string, z.ZodType | null>, description: string): Reply => ({
  description,
  media: types,
});

/** Answers any API route may give besides its own. */
const COMMON: Record<number, Reply> = {
  401: problem('`unauthorized`: the server has API_TOKEN and the request carries no valid token.'),
  403: problem('`host_not_allowed`: the Host header names no host this server answers to.'),
  500: problem('`internal`: a fault of the server.'),
  503: problem(
    '`storage_unavailable`: PostgreSQL is unreachable, or `bus_unavailable`: Redis is (cluster mode; both retryable).',
  ),
};

/** What one route documents about itself; parameters come from its validators. */
export interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  body?: { schema: z.ZodType; description?: string };
  responses: Record<number, Reply>;
  /** Answered before the token check (no 401). */
  public?: boolean;
  /** Behind the API's body limit (default): any request with a body over it gets 413. */
  bodyLimit?: boolean;
}

/** Marks the middleware that documents a route, so PROTOCOL_CHECK can find the route's schemas. */
export const RESPONSES = Symbol('documented responses');
export type Documented = MiddlewareHandler & { [RESPONSES]: Record<number, Reply> };

const content = (r: Reply) =>
  r.json
    ? { 'application/json': { schema: resolver(r.json) } }
    : r.media
      ? Object.fromEntries(
          Object.entries(r.media).map(([type, schema]) => [type, schema ? { schema: resolver(schema) } : {}]),
        )
      : undefined;

/**
 * Documents a route for the OpenAPI document (hono-openapi's describeRoute) from the shared zod schemas,
 * and keeps the schemas on the middleware for the test mode's check of every answer.
 */
export function doc(d: RouteDoc): Documented {
  const responses: Record<number, Reply> = { ...COMMON };
  if (d.public) delete responses[401];
  if (d.bodyLimit !== false) responses[413] = problem('`payload_too_large`: a request body over 16 KiB.');
  // A route's own 503 (shutting down) adds to the storage one.
  const own503 = d.responses[503];
  Object.assign(responses, d.responses);
  if (own503)
    responses[503] = { ...own503, description: `${own503.description} ${COMMON[503]!.description}` };
  const middleware = describeRoute({
    summary: d.summary,
    ...(d.description ? { description: d.description } : {}),
    tags: d.tags,
    ...(d.public ? { security: [] } : {}),
    ...(d.body
      ? {
          requestBody: {
            required: true,
            ...(d.body.description ? { description: d.body.description } : {}),
            content: { 'application/json': { schema: resolver(d.body.schema) } },
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, r]) => [
        status,
        { description: r.description, content: content(r) },
      ]),
    ),
  });
  return Object.assign(middleware, { [RESPONSES]: responses });
}
