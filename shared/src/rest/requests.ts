import { z } from 'zod';
import { RUN_STATUSES, runIdSchema, userIdSchema } from '../domain.js';
import { startKeySchema } from '../ws-protocol.js';

/**
 * What REST requests carry: path parameters, query strings and JSON bodies. Query values arrive as
 * strings; the schemas turn them into what the routes use, and their input side is what the served
 * OpenAPI document shows.
 */

/** An integer query parameter within bounds; absent or empty means `def`. */
const intQuery = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s === '') return def;
      if (/^-?\d+$/.test(s) && Number(s) >= min && Number(s) <= max) return Number(s);
      ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` });
      return z.NEVER;
    })
    .meta({ description: `Integer from ${min} to ${max}; default ${def}.` });

/** An optional text filter; empty means absent. */
const optionalText = () =>
  z
    .string()
    .optional()
    .transform((s) => s || undefined);

const paging = { limit: intQuery(50, 1, 500), offset: intQuery(0, 0, 1e9) };

export const userIdParamSchema = z.object({ userId: userIdSchema });
export const runIdParamSchema = z.object({ runId: runIdSchema });

export const usersQuerySchema = z.object({
  q: z
    .string()
    .max(100, 'is limited to 100 characters')
    .optional()
    .transform((s) => s?.trim() || undefined)
    .describe('Search text: id, name or profile.'),
  ...paging,
});

export const runsQuerySchema = z.object({
  userId: optionalText(),
  status: z.enum(RUN_STATUSES).optional(),
  ...paging,
});

export const eventsQuerySchema = z.object({
  userId: optionalText(),
  runId: z
    .union([runIdSchema, z.literal('')])
    .optional()
    .transform((s) => s || undefined)
    .describe("One run's events instead of each user's latest."),
});

export const exportQuerySchema = eventsQuerySchema.extend({
  format: z.enum(['csv', 'jsonl']).default('csv'),
});

export const streamQuerySchema = z.object({
  after: z
    .string()
    .optional()
    .describe('Last seq the client has (for curl); the `Last-Event-ID` header wins when both are sent.'),
});

export const streamHeadersSchema = z.object({
  'last-event-id': z
    .string()
    .optional()
    .describe('Last seq the client has; EventSource sends it when it reconnects.'),
});

export const importQuerySchema = z.object({
  format: z.enum(['jsonl', 'csv']).optional().describe('Overrides detection from Content-Type and filename.'),
  filename: z.string().optional().describe('The name of the uploaded file, for format detection.'),
});

export const startRunRequestSchema = z
  .object({ userId: z.string(), key: startKeySchema.optional() })
  .meta({ id: 'StartRunRequest' });
export type StartRunRequest = z.infer<typeof startRunRequestSchema>;

export const sessionRequestSchema = z
  .object({ token: z.string().describe('The server’s API_TOKEN.') })
  .meta({ id: 'SessionRequest' });
export type SessionRequest = z.infer<typeof sessionRequestSchema>;
