import { z } from 'zod';
import {
  behaviourSchema,
  extractedEventSchema,
  runStatusSchema,
  runSummarySchema,
  userSchema,
} from '../domain.js';

/** Bodies of the REST API's successful JSON responses. Errors are `apiErrorBodySchema` (errors.ts). */

const page = { total: z.number().int().describe('Matches in all, beyond this page too.') };
const paging = { limit: z.number().int(), offset: z.number().int() };

export const userListItemSchema = userSchema
  .extend({
    behaviourCount: z.number().int(),
    lastRun: z
      .object({ id: z.string(), status: runStatusSchema, createdAt: z.string() })
      .nullable()
      .describe("The user's newest run, if any."),
  })
  .meta({ id: 'UserListItem' });
export type UserListItem = z.infer<typeof userListItemSchema>;

export const userPageSchema = z
  .object({ items: z.array(userListItemSchema), ...page, ...paging })
  .meta({ id: 'UserPage' });
export type UserPage = z.infer<typeof userPageSchema>;

export const userDetailSchema = userSchema
  .extend({ behaviours: z.array(behaviourSchema).describe('Oldest first.') })
  .meta({ id: 'UserDetail' });
export type UserDetail = z.infer<typeof userDetailSchema>;

export const runPageSchema = z
  .object({ items: z.array(runSummarySchema), ...page, ...paging })
  .meta({ id: 'RunPage' });
export type RunPage = z.infer<typeof runPageSchema>;

export const eventPageSchema = z
  .object({ items: z.array(extractedEventSchema), ...page })
  .meta({ id: 'EventPage' });
export type EventPage = z.infer<typeof eventPageSchema>;

export const modelInfoSchema = z
  .object({
    name: z.string().describe('Model name as sent upstream.'),
    builtin: z.boolean().describe('True for the built-in rule-based model.'),
    baseURL: z.string().describe('The OpenAI-compatible endpoint, or `built-in`.'),
  })
  .meta({ id: 'ModelInfo' });
export type ModelInfo = z.infer<typeof modelInfoSchema>;

export const healthSchema = z
  .object({
    status: z.literal('ok'),
    startedAt: z.string(),
    protocol: z.number().int().describe('WebSocket protocol version, as in `hello`.'),
    model: modelInfoSchema,
    runningRuns: z.number().int(),
    users: z.number().int(),
    auth: z.boolean().describe('Whether the server requires a token.'),
    storage: z.enum(['sqlite', 'postgres']).describe('Where records are kept.'),
    bus: z
      .enum(['in-process', 'redis'])
      .describe('How running runs reach watchers: this process only, or shared by instances over Redis.'),
    instance: z.string().describe('This instance’s id (INSTANCE_ID, or host name and process id).'),
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof healthSchema>;

export const sessionResponseSchema = z
  .object({ auth: z.boolean().describe('False when the server has no token (nothing to trade).') })
  .meta({ id: 'SessionResponse' });
export type SessionResponse = z.infer<typeof sessionResponseSchema>;

export const startRunResponseSchema = z
  .object({ runId: z.string(), status: runStatusSchema })
  .meta({ id: 'StartRunResponse' });
export type StartRunResponse = z.infer<typeof startRunResponseSchema>;

export const cancelRunResponseSchema = z
  .object({ runId: z.string(), status: z.literal('cancelling') })
  .meta({ id: 'CancelRunResponse', description: 'Watchers get the `cancelled` frame.' });
export type CancelRunResponse = z.infer<typeof cancelRunResponseSchema>;

export const resumeRunResponseSchema = z
  .object({
    runId: z.string(),
    status: runStatusSchema,
    lastSeq: z.number().int().describe('Where the log stood when the resume began: watch after it.'),
  })
  .meta({ id: 'ResumeRunResponse' });
export type ResumeRunResponse = z.infer<typeof resumeRunResponseSchema>;

export const importSummarySchema = z
  .object({
    ok: z.literal(true),
    users: z.number().int().describe('User rows imported (new or updated).'),
    behaviours: z.number().int(),
    createdUsers: z.number().int().describe('Users that did not exist before.'),
  })
  .meta({ id: 'ImportSummary' });
export type ImportSummary = z.infer<typeof importSummarySchema>;

export const importProblemSchema = z
  .object({ line: z.number().int().describe('1-based line of the body.'), reason: z.string() })
  .meta({ id: 'ImportProblem' });
export type ImportProblem = z.infer<typeof importProblemSchema>;

/** `error.details` of a `422 import_invalid`. */
export const importInvalidDetailsSchema = z
  .object({ errors: z.array(importProblemSchema) })
  .meta({ id: 'ImportInvalidDetails' });
