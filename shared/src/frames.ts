import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import { REJECT_CODES } from './domain.js';

/**
 * Frames of a run. The same JSON object is the `data:` line of an SSE message (with `id: <seq>`)
 * and a text message on the WebSocket channel: one cursor (`seq`) for both transports.
 */
const base = {
  /** The run this frame belongs to. */
  runId: z.string(),
  /** Position in the run's frame log: 1, 2, 3… without gaps. */
  seq: z.number().int().positive(),
};

const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
  estimated: z.boolean(),
});

export const startFrameSchema = z.object({
  type: z.literal('start'),
  ...base,
  userId: z.string(),
  /** Model name as sent upstream, e.g. `builtin-rules-v1`. */
  model: z.string(),
  /** Human-readable, as in the original design: 开始为用户 … 抽象事件... */
  message: z.string(),
  /** Behaviours of the user the prompt covers. */
  behaviourCount: z.number().int().nonnegative(),
  /** Set when the history was cut to the prompt budget: how many of how many were sent. */
  truncated: z.object({ included: z.number().int(), total: z.number().int() }).nullable(),
});

export const PROGRESS_STAGES = [
  'prompt',
  'calling',
  'retry',
  'generating',
  'line_rejected',
  'resumed',
] as const;

export const progressFrameSchema = z.object({
  type: z.literal('progress'),
  ...base,
  /** What is happening, for people. */
  message: z.string(),
  stage: z.enum(PROGRESS_STAGES),
  /** Share (0–100) of the prompt's behaviours already cited by parsed events. */
  percent: z.number().min(0).max(100),
  /** With stage `retry`: attempt number and the wait before it. */
  retry: z.object({ attempt: z.number().int(), delayMs: z.number().int(), reason: z.string() }).optional(),
  /** With stage `line_rejected`: the line and why. */
  rejected: z
    .object({ lineNo: z.number().int(), text: z.string(), code: z.enum(REJECT_CODES), reason: z.string() })
    .optional(),
});

export const llmChunkFrameSchema = z.object({
  type: z.literal('llm_chunk'),
  ...base,
  /** A piece of model text, exactly as received; concatenating all pieces gives the run's text. */
  content: z.string(),
});

export const eventFrameSchema = z.object({
  type: z.literal('event'),
  ...base,
  event: z.object({
    runId: z.string(),
    userId: z.string(),
    eventType: z.string(),
    startTime: z.string(),
    endTime: z.string(),
    sourceBehaviorIds: z.array(z.string()),
    summary: z.string(),
    lineNo: z.number().int(),
  }),
  percent: z.number().min(0).max(100),
});

const outcome = {
  /** Valid events parsed so far. */
  events: z.number().int().nonnegative(),
  /** Lines that did not become events. */
  rejected: z.number().int().nonnegative(),
  /** llm_chunk frames sent. */
  pieces: z.number().int().nonnegative(),
  usage: usageSchema.nullable(),
  /** Wall time of the run, summed over its attempts. */
  durationMs: z.number().int().nonnegative(),
};

export const doneFrameSchema = z.object({
  type: z.literal('done'),
  ...base,
  /** 抽象完成 */
  message: z.string(),
  ...outcome,
});

export const cancelledFrameSchema = z.object({
  type: z.literal('cancelled'),
  ...base,
  message: z.string(),
  /** `client`: someone asked; `unwatched`: nobody was watching past the idle limit; `shutdown`. */
  reason: z.enum(['client', 'unwatched', 'shutdown']),
  ...outcome,
});

export const errorFrameSchema = z.object({
  type: z.literal('error'),
  ...base,
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** True when starting or resuming the run again may succeed. */
  retryable: z.boolean(),
  ...outcome,
});

export const runFrameSchema = z.discriminatedUnion('type', [
  startFrameSchema,
  progressFrameSchema,
  llmChunkFrameSchema,
  eventFrameSchema,
  doneFrameSchema,
  cancelledFrameSchema,
  errorFrameSchema,
]);

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

/** Frames after which a run produces nothing more unless resumed. */
export const TERMINAL_FRAME_TYPES: ReadonlySet<RunFrameType> = new Set(['done', 'cancelled', 'error']);
export const isTerminalFrame = (f: { type: string }): boolean =>
  TERMINAL_FRAME_TYPES.has(f.type as RunFrameType);
