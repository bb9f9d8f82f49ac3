import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import { runIdSchema, userIdSchema, type RunStatus } from './domain.js';
import type { RunFrame } from './frames.js';

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 1;

/** Lets a client match a reply to its request; echoed back verbatim. */
const requestId = z.string().max(128).optional();

/**
 * A key the client picks for one intended run, so a start can be retried safely (a reload or a dropped
 * connection while the start was in flight): a start with a key already used returns the run it started.
 */
export const startKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'a start key is 8 to 64 characters of A-Z, a-z, 0-9, _ and -');

export const clientMessageSchema = z.discriminatedUnion('type', [
  /** Start a new extraction run for a user; the socket is subscribed to it from seq 1. */
  z.object({ type: z.literal('start'), userId: userIdSchema, key: startKeySchema.optional(), requestId }),
  /** Watch a run: frames after `after` (default 0 = everything), then live ones. */
  z.object({
    type: z.literal('subscribe'),
    runId: runIdSchema,
    after: z.number().int().optional(),
    requestId,
  }),
  /** Stop a running run; the upstream model request is aborted. */
  z.object({ type: z.literal('cancel'), runId: runIdSchema, requestId }),
  /** Continue generating a cancelled or interrupted run; frames append to the same log. */
  z.object({ type: z.literal('resume'), runId: runIdSchema, requestId }),
  /** Stop receiving a run's frames on this socket (the run goes on). */
  z.object({ type: z.literal('unsubscribe'), runId: runIdSchema, requestId }),
  /** Application-level liveness check, answered by `pong`. */
  z.object({ type: z.literal('ping'), requestId }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = [
  'start',
  'subscribe',
  'cancel',
  'resume',
  'unsubscribe',
  'ping',
];

export interface ServerLimits {
  /** Largest client message accepted, bytes; larger ones close the socket with 1009. */
  maxMessageBytes: number;
  /** Runs one socket may have running at once (started through it). */
  maxRunsPerSocket: number;
  /** How often the server pings; a peer that misses a pong is dropped. */
  heartbeatMs: number;
}

/** First message on every socket. */
export interface HelloMessage {
  type: 'hello';
  protocol: number;
  /** Model in use, e.g. `builtin-rules-v1 (built-in)`. */
  model: string;
  limits: ServerLimits;
}

/** Positive answer to a client request. */
export interface AckMessage {
  type: 'ack';
  /** The request type answered. */
  op: Exclude<ClientMessageType, 'ping'>;
  requestId?: string;
  runId: string;
  /** For subscribe: the run's last seq at the time of the answer. */
  lastSeq?: number;
  /** For subscribe: the run's status at the time of the answer. */
  status?: RunStatus;
}

export interface PongMessage {
  type: 'pong';
  requestId?: string;
}

/**
 * A request that could not be served. Unlike a run's `error` frame it has no `seq`:
 * it answers a message, it is not part of any run's log. The socket stays open.
 */
export interface RequestErrorMessage {
  type: 'error';
  code: (typeof ERROR_CODES)[number];
  message: string;
  retryable: boolean;
  requestId?: string;
  runId?: string;
}

export type ServerMessage = HelloMessage | AckMessage | PongMessage | RequestErrorMessage | RunFrame;

/** A run frame carries a seq; a request error does not. */
export const isRunFrame = (m: ServerMessage): m is RunFrame => 'seq' in m && typeof m.seq === 'number';
