import { z } from 'zod';
import { errorCodeSchema } from './errors.js';
import { extractedEventSchema, rejectedLineSchema, tokenUsageSchema, truncationSchema } from './domain.js';

/**
 * Frames of a run. The same JSON object is the `data:` line of an SSE message (with `id: <seq>`)
 * and a text message on the WebSocket channel: one cursor (`seq`) for both transports.
 * Field descriptions live in `.describe()`, so the served OpenAPI and AsyncAPI documents carry them.
 */
const base = {
  runId: z.string().describe('The run this frame belongs to.'),
  seq: z.number().int().positive().describe("Position in the run's frame log: 1, 2, 3… without gaps."),
};

export const startFrameSchema = z
  .object({
    type: z.literal('start'),
    ...base,
    userId: z.string(),
    model: z.string().describe('Model name as sent upstream, e.g. `builtin-rules-v1`.'),
    message: z.string().describe('Human-readable, as in the original design: 开始为用户 … 抽象事件...'),
    behaviourCount: z.number().int().nonnegative().describe('Behaviours of the user the prompt covers.'),
    truncated: truncationSchema.nullable(),
    chunks: z
      .array(z.number().int().positive())
      .optional()
      .describe(
        'When the history is longer than one prompt: behaviours per chunk, in time order; each chunk is ' +
          'one upstream call, and together they cover every behaviour. Absent when one call covers it.',
      ),
    passes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        '2 when every chunk is reviewed in a second pass (EXTRACTION_PASSES=2); absent for one pass.',
      ),
  })
  .meta({ id: 'StartFrame', description: 'First frame of a run.' });

export const PROGRESS_STAGES = [
  'prompt',
  'calling',
  'retry',
  'generating',
  'line_rejected',
  'resumed',
  'chunk',
] as const;

export const progressFrameSchema = z
  .object({
    type: z.literal('progress'),
    ...base,
    message: z.string().describe('What is happening, for people.'),
    stage: z.enum(PROGRESS_STAGES),
    percent: z
      .number()
      .min(0)
      .max(100)
      .describe("Share (0–100) of the prompt's behaviours already cited by parsed events."),
    retry: z
      .object({ attempt: z.number().int(), delayMs: z.number().int(), reason: z.string() })
      .optional()
      .describe('With stage `retry`: attempt number and the wait before it.'),
    rejected: rejectedLineSchema.optional().describe('With stage `line_rejected`: the line and why.'),
    chunk: z
      .object({
        index: z.number().int().positive().describe('1-based.'),
        total: z.number().int().positive(),
        behaviours: z.number().int().nonnegative().describe('Behaviours this chunk covers.'),
        pass: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('With EXTRACTION_PASSES=2: 1, or 2 for the review of that chunk against the first pass.'),
      })
      .optional()
      .describe('With stage `chunk`: the chunk whose output the following text is, from here on.'),
  })
  .meta({ id: 'ProgressFrame', description: 'A status change of the run.' });

export const llmChunkFrameSchema = z
  .object({
    type: z.literal('llm_chunk'),
    ...base,
    content: z
      .string()
      .describe("A piece of model text, exactly as received; all pieces concatenated are the run's text."),
  })
  .meta({ id: 'LlmChunkFrame', description: 'A piece of text from the model.' });

export const eventFrameSchema = z
  .object({
    type: z.literal('event'),
    ...base,
    event: extractedEventSchema,
    percent: z.number().min(0).max(100),
    replaces: z
      .array(z.number().int().positive())
      .optional()
      .describe(
        'Line numbers of earlier events this one merges (a chunk boundary cut them, or two chunks cited ' +
          'the same behaviours): drop those, show this one. Absent when nothing was merged.',
      ),
  })
  .meta({ id: 'EventFrame', description: 'A line of the text parsed and validated as an event.' });

const outcome = {
  events: z.number().int().nonnegative().describe('Valid events parsed so far.'),
  rejected: z.number().int().nonnegative().describe('Lines that did not become events.'),
  pieces: z.number().int().nonnegative().describe('llm_chunk frames sent.'),
  usage: tokenUsageSchema.nullable(),
  durationMs: z.number().int().nonnegative().describe('Wall time of the run, summed over its attempts.'),
  chunks: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Upstream calls the history was split into (long histories).'),
  merged: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Events merged into others across chunks (long histories).'),
  passes: z.number().int().positive().optional().describe('Extraction passes (2 with EXTRACTION_PASSES=2).'),
};

export const doneFrameSchema = z
  .object({
    type: z.literal('done'),
    ...base,
    message: z.string().describe('抽象完成'),
    ...outcome,
  })
  .meta({ id: 'DoneFrame', description: 'The run finished.' });

export const cancelledFrameSchema = z
  .object({
    type: z.literal('cancelled'),
    ...base,
    message: z.string(),
    reason: z
      .enum(['client', 'unwatched', 'shutdown'])
      .describe('`client`: someone asked; `unwatched`: nobody watched past the idle limit; `shutdown`.'),
    ...outcome,
  })
  .meta({ id: 'CancelledFrame', description: 'The run was cancelled; it can be resumed.' });

export const errorFrameSchema = z
  .object({
    type: z.literal('error'),
    ...base,
    code: errorCodeSchema,
    message: z.string(),
    retryable: z.boolean().describe('True when starting or resuming the run again may succeed.'),
    ...outcome,
  })
  .meta({
    id: 'ErrorFrame',
    description:
      "The run failed (`code: interrupted` after a server restart). Part of the run's log, with a `seq`; " +
      'a refused request is a `request_error` message instead.',
  });

export const runFrameSchema = z
  .discriminatedUnion('type', [
    startFrameSchema,
    progressFrameSchema,
    llmChunkFrameSchema,
    eventFrameSchema,
    doneFrameSchema,
    cancelledFrameSchema,
    errorFrameSchema,
  ])
  .meta({
    id: 'RunFrame',
    description: "One frame of a run's log: an SSE event's data, or a WebSocket message.",
  });

export type StartFrame = z.infer<typeof startFrameSchema>;
export type ProgressFrame = z.infer<typeof progressFrameSchema>;
export type LlmChunkFrame = z.infer<typeof llmChunkFrameSchema>;
export type EventFrame = z.infer<typeof eventFrameSchema>;
export type DoneFrame = z.infer<typeof doneFrameSchema>;
export type CancelledFrame = z.infer<typeof cancelledFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type RunFrame = z.infer<typeof runFrameSchema>;
export type RunFrameType = RunFrame['type'];
/** A frame before the log assigns its position. */
export type FrameDraft = RunFrame extends infer F
  ? F extends RunFrame
    ? Omit<F, 'seq' | 'runId'>
    : never
  : never;

/** Every frame type, from the union. */
export const RUN_FRAME_TYPES: readonly RunFrameType[] = runFrameSchema.options.map((o) => o.shape.type.value);

/** Frames after which a run produces nothing more unless resumed. */
export const TERMINAL_FRAME_TYPES: ReadonlySet<RunFrameType> = new Set(['done', 'cancelled', 'error']);
export const isTerminalFrame = (f: { type: string }): boolean =>
  TERMINAL_FRAME_TYPES.has(f.type as RunFrameType);
