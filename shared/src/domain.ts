import { z } from 'zod';

/** User and behaviour ids never contain `|` or `,`: they are embedded in event lines. */
export const USER_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
export const BEHAVIOUR_ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const RUN_ID_RE = /^run_[A-Za-z0-9]{6,40}$/;
/** Minute-resolution local time used by behaviours and event lines: `YYYY-MM-DD HH:mm`. */
export const MINUTE_TIME_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/;

export const userIdSchema = z
  .string()
  .regex(USER_ID_RE, 'user id must be 1–64 of A-Z a-z 0-9 _ . -')
  .meta({ description: 'e.g. `user_0007`', examples: ['user_0007'] });
export const runIdSchema = z.string().regex(RUN_ID_RE, 'run id looks like run_xxxxxxxx');

/** Free-form profile attributes: city, age band, budget, intended model… */
export const profileSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .meta({ id: 'Profile', description: 'Free-form attributes: city, age band, budget, intended model…' });
export type Profile = z.infer<typeof profileSchema>;

export const userSchema = z
  .object({
    id: z.string().describe('e.g. `user_0007`'),
    name: z.string().nullable().describe('Display name, optional.'),
    profile: profileSchema,
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof userSchema>;

export const behaviourSchema = z
  .object({
    id: z.string().describe('Unique across the database; cited by events in `source_behavior_ids`.'),
    userId: z.string(),
    ts: z.string().describe('`YYYY-MM-DD HH:mm`, local time.'),
    action: z.string().describe('What the user did, e.g. 浏览车型, 预约试驾, 到店.'),
    object: z.string().describe('What it was done to: a car model or a page.'),
    channel: z.string().describe('app, web, store, phone…'),
    detail: z.string().nullable(),
  })
  .meta({ id: 'Behaviour' });
export type Behaviour = z.infer<typeof behaviourSchema>;

export const RUN_STATUSES = ['running', 'done', 'cancelled', 'error', 'interrupted'] as const;
export const runStatusSchema = z.enum(RUN_STATUSES).meta({ id: 'RunStatus' });
export type RunStatus = z.infer<typeof runStatusSchema>;

export const tokenUsageSchema = z
  .object({
    promptTokens: z.number().int().nonnegative(),
    completionTokens: z.number().int().nonnegative(),
    totalTokens: z.number().int().nonnegative(),
    estimated: z
      .boolean()
      .describe(
        'True when the upstream did not report usage (e.g. cancelled) and the figures are estimates.',
      ),
  })
  .meta({ id: 'TokenUsage' });
export type TokenUsage = z.infer<typeof tokenUsageSchema>;

/** An event the model produced that passed validation and cites real behaviours of the user. */
export const extractedEventSchema = z
  .object({
    runId: z.string(),
    userId: z.string(),
    eventType: z.string().describe('e.g. 到店看车, 试驾'),
    startTime: z.string().describe('`YYYY-MM-DD HH:mm`'),
    endTime: z.string().describe('`YYYY-MM-DD HH:mm`, never before startTime.'),
    sourceBehaviorIds: z.array(z.string()),
    summary: z.string(),
    lineNo: z.number().int().describe("1-based line number in the run's text."),
  })
  .meta({
    id: 'ExtractedEvent',
    description: 'An event the model produced that passed validation and cites real behaviours of the user.',
  });
export type ExtractedEvent = z.infer<typeof extractedEventSchema>;

export const REJECT_CODES = [
  'prose',
  'field_count',
  'user_mismatch',
  'bad_time',
  'end_before_start',
  'no_sources',
  'unknown_behaviour',
  'empty_field',
  'duplicate',
  'cut_off',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/** A non-blank line of model output that did not become an event, with why. */
export const rejectedLineSchema = z
  .object({
    lineNo: z.number().int(),
    text: z.string(),
    code: z.enum(REJECT_CODES),
    reason: z.string(),
  })
  .meta({
    id: 'RejectedLine',
    description: 'A non-blank line of model output that did not become an event.',
  });
export type RejectedLine = z.infer<typeof rejectedLineSchema>;

/** How much of the user's history the prompt holds, when it had to be cut to the budget. */
export const truncationSchema = z.object({ included: z.number().int(), total: z.number().int() }).meta({
  id: 'Truncation',
  description: 'Behaviours the prompt included, of how many, when the history was cut.',
});

export const runSummarySchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    model: z.string(),
    status: runStatusSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
    usage: tokenUsageSchema.nullable(),
    eventCount: z.number().int(),
    rejectedCount: z.number().int(),
    lastSeq: z.number().int().describe('Highest seq in the frame log.'),
    errorCode: z.string().nullable(),
    truncated: truncationSchema.nullable(),
  })
  .meta({ id: 'RunSummary' });
export type RunSummary = z.infer<typeof runSummarySchema>;

export const runDetailSchema = runSummarySchema
  .extend({
    text: z.string().describe('All model text so far.'),
    events: z.array(extractedEventSchema),
    rejected: z.array(rejectedLineSchema),
  })
  .meta({ id: 'RunDetail' });
export type RunDetail = z.infer<typeof runDetailSchema>;
