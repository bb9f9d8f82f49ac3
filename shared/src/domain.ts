import { z } from 'zod';

/** User and behaviour ids never contain `|` or `,`: they are embedded in event lines. */
export const USER_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
export const BEHAVIOUR_ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const RUN_ID_RE = /^run_[A-Za-z0-9]{6,40}$/;
/** Minute-resolution local time used by behaviours and event lines: `YYYY-MM-DD HH:mm`. */
export const MINUTE_TIME_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/;

export const userIdSchema = z.string().regex(USER_ID_RE, 'user id must be 1–64 of A-Z a-z 0-9 _ . -');
export const runIdSchema = z.string().regex(RUN_ID_RE, 'run id looks like run_xxxxxxxx');

/** Free-form profile attributes: city, age band, budget, intended model… */
export const profileSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type Profile = z.infer<typeof profileSchema>;

export interface User {
  /** e.g. `user_0007` */
  id: string;
  /** Display name, optional. */
  name: string | null;
  profile: Profile;
}

export interface Behaviour {
  /** Unique across the database; cited by events in `source_behavior_ids`. */
  id: string;
  userId: string;
  /** `YYYY-MM-DD HH:mm`, local time. */
  ts: string;
  /** What the user did, e.g. 浏览车型, 预约试驾, 到店. */
  action: string;
  /** What it was done to: a car model or a page. */
  object: string;
  /** app, web, store, phone… */
  channel: string;
  detail: string | null;
}

export const RUN_STATUSES = ['running', 'done', 'cancelled', 'error', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** True when the upstream did not report usage (e.g. cancelled) and the figures are estimates. */
  estimated: boolean;
}

/** An event the model produced that passed validation and cites real behaviours of the user. */
export interface ExtractedEvent {
  runId: string;
  userId: string;
  eventType: string;
  /** `YYYY-MM-DD HH:mm` */
  startTime: string;
  /** `YYYY-MM-DD HH:mm`, never before startTime. */
  endTime: string;
  sourceBehaviorIds: string[];
  summary: string;
  /** 1-based line number in the run's text. */
  lineNo: number;
}

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
export interface RejectedLine {
  lineNo: number;
  text: string;
  code: RejectCode;
  reason: string;
}

export interface RunSummary {
  id: string;
  userId: string;
  model: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  usage: TokenUsage | null;
  eventCount: number;
  rejectedCount: number;
  /** Highest seq in the frame log. */
  lastSeq: number;
  errorCode: string | null;
  /** Set when the prompt had to leave behaviours out to fit the budget. */
  truncated: { included: number; total: number } | null;
}

export interface RunDetail extends RunSummary {
  text: string;
  events: ExtractedEvent[];
  rejected: RejectedLine[];
}
