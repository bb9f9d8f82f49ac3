import { z } from 'zod';
import { errorCodeSchema } from './errors.js';
import { runIdSchema, runStatusSchema, userIdSchema } from './domain.js';
import { RUN_FRAME_TYPES, runFrameSchema, type RunFrame } from './frames.js';

/**
 * Bumped on any incompatible change to the messages below.
 * 2: a refused request is `{"type":"request_error"}` (was `error`, told from a run's `error` frame by `seq`).
 */
export const PROTOCOL_VERSION = 2;

const requestId = z
  .string()
  .max(128)
  .optional()
  .describe('Lets a client match a reply to its request; echoed back verbatim.');
/** In replies: whatever string the request carried, even one refused for its length. */
const echoedRequestId = z.string().optional().describe('The requestId of the request answered.');

/**
 * A key the client picks for one intended run, so a start can be retried safely (a reload or a dropped
 * connection while the start was in flight): a start with a key already used returns the run it started.
 */
export const startKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'a start key is 8 to 64 characters of A-Z, a-z, 0-9, _ and -')
  .describe('One key per intended run: a start with a key already used returns the run it started.');

// ---- client → server ----

export const startMessageSchema = z
  .object({ type: z.literal('start'), userId: userIdSchema, key: startKeySchema.optional(), requestId })
  .meta({
    id: 'StartRequest',
    description: 'Start a new extraction run for a user; the socket watches it from seq 1.',
  });

export const subscribeMessageSchema = z
  .object({
    type: z.literal('subscribe'),
    runId: runIdSchema,
    after: z.number().int().optional().describe('Last seq the client has; default 0 = everything.'),
    requestId,
  })
  .meta({ id: 'SubscribeRequest', description: 'Watch a run: frames after `after`, then live ones.' });

export const cancelMessageSchema = z
  .object({ type: z.literal('cancel'), runId: runIdSchema, requestId })
  .meta({ id: 'CancelRequest', description: 'Stop a running run; the upstream model request is aborted.' });

export const resumeMessageSchema = z
  .object({ type: z.literal('resume'), runId: runIdSchema, requestId })
  .meta({
    id: 'ResumeRequest',
    description: 'Continue generating a cancelled or interrupted run; frames append to the same log.',
  });

export const unsubscribeMessageSchema = z
  .object({ type: z.literal('unsubscribe'), runId: runIdSchema, requestId })
  .meta({
    id: 'UnsubscribeRequest',
    description: "Stop receiving a run's frames on this socket (the run goes on).",
  });

export const pingMessageSchema = z
  .object({ type: z.literal('ping'), requestId })
  .meta({ id: 'PingRequest', description: 'Application-level liveness check, answered by `pong`.' });

export const clientMessageSchema = z.discriminatedUnion('type', [
  startMessageSchema,
  subscribeMessageSchema,
  cancelMessageSchema,
  resumeMessageSchema,
  unsubscribeMessageSchema,
  pingMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
/** Every client message type, from the union. */
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = clientMessageSchema.options.map(
  (o) => o.shape.type.value,
);

// ---- server → client ----

export const serverLimitsSchema = z
  .object({
    maxMessageBytes: z
      .number()
      .int()
      .describe('Largest client message accepted, bytes; larger ones close the socket with 1009.'),
    maxRunsPerSocket: z
      .number()
      .int()
      .describe('Runs one socket may have running at once (started through it).'),
    heartbeatMs: z
      .number()
      .int()
      .describe('How often the server pings; a peer that misses a pong is dropped.'),
  })
  .meta({ id: 'ServerLimits' });
export type ServerLimits = z.infer<typeof serverLimitsSchema>;

export const helloMessageSchema = z
  .object({
    type: z.literal('hello'),
    protocol: z.number().int().describe('PROTOCOL_VERSION of the server.'),
    model: z.string().describe('Model in use, e.g. `builtin-rules-v1 (built-in)`.'),
    limits: serverLimitsSchema,
  })
  .meta({ id: 'Hello', description: 'First message on every socket.' });
export type HelloMessage = z.infer<typeof helloMessageSchema>;

const ACK_OPS = CLIENT_MESSAGE_TYPES.filter((t): t is Exclude<ClientMessageType, 'ping'> => t !== 'ping');

export const ackMessageSchema = z
  .object({
    type: z.literal('ack'),
    op: z.enum(ACK_OPS as [Exclude<ClientMessageType, 'ping'>]).describe('The request type answered.'),
    requestId: echoedRequestId,
    runId: z.string(),
    lastSeq: z
      .number()
      .int()
      .optional()
      .describe("For subscribe: the run's last seq at the time of the answer."),
    status: runStatusSchema.optional().describe("For subscribe: the run's status at the time of the answer."),
  })
  .meta({ id: 'Ack', description: 'Positive answer to a client request.' });
export type AckMessage = z.infer<typeof ackMessageSchema>;

export const pongMessageSchema = z
  .object({ type: z.literal('pong'), requestId: echoedRequestId })
  .meta({ id: 'Pong', description: 'Answer to `ping`.' });
export type PongMessage = z.infer<typeof pongMessageSchema>;

export const requestErrorMessageSchema = z
  .object({
    type: z.literal('request_error'),
    code: errorCodeSchema,
    message: z.string(),
    retryable: z.boolean().describe('True when sending the same request later may succeed.'),
    requestId: echoedRequestId,
    runId: z.string().optional().describe('The run the request named, if any.'),
  })
  .meta({
    id: 'RequestError',
    description:
      "A request that could not be served; the socket stays open. Not part of any run's log (no `seq`), " +
      "unlike a run's `error` frame.",
  });
export type RequestErrorMessage = z.infer<typeof requestErrorMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  helloMessageSchema,
  ackMessageSchema,
  pongMessageSchema,
  requestErrorMessageSchema,
  ...runFrameSchema.options,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageType = ServerMessage['type'];
/** Every server message type (run frames included), from the union. */
export const SERVER_MESSAGE_TYPES: readonly ServerMessageType[] = serverMessageSchema.options.map(
  (o) => o.shape.type.value,
);

const runFrameTypes: ReadonlySet<string> = new Set(RUN_FRAME_TYPES);
/** A run frame, told from the channel's own messages by its type. */
export const isRunFrame = (m: ServerMessage): m is RunFrame => runFrameTypes.has(m.type);
