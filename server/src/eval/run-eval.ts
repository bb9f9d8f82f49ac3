import type { RunStatus, TokenUsage } from '@app/shared';
import { EvalApi } from './eval-api.js';
import { referenceEvents } from './reference.js';
import { scoreEvents, type Score } from './score.js';

/** A few short journeys of different shapes, then the three long histories. */
export const DEFAULT_EVAL_USERS: readonly string[] = [
  'user_0001',
  'user_0007',
  'user_0012',
  'user_0025',
  'user_0040',
  'user_0061',
  'user_0062',
  'user_0063',
];

/** One user's outcome. */
export interface UserResult {
  userId: string;
  behaviours: number;
  runId: string | null;
  /** How the run ended; `failed` when it could not be started or followed. */
  status: RunStatus | 'failed';
  errorCode: string | null;
  /** Why the evaluation of this user failed, when it did. */
  error: string | null;
  /** Behaviours the model was shown, of how many (the run's truncation; all of them when none). */
  shown: { included: number; total: number };
  score: Score | null;
  tokens: TokenUsage | null;
  /** From the run's creation to its end, as the server recorded them; null when it never ended. */
  durationMs: number | null;
}

/** All users' outcomes and the totals over them. */
export interface EvalReport {
  baseUrl: string;
  model: string;
  startedAt: string;
  users: UserResult[];
  totals: {
    users: number;
    failed: number;
    reference: number;
    predicted: number;
    matched: number;
    /** Micro-averaged over every event of every user. */
    precision: number;
    recall: number;
    f1: number;
    /** Mean of the users' F1. */
    meanF1: number;
    rejectedShare: number;
    groundedShare: number;
    tokens: number;
    durationMs: number;
  };
}

/** What {@link runEval} needs. */
export interface EvalOptions {
  baseUrl: string;
  users: readonly string[];
  token?: string;
  /** Users run at once (default 1, so each user's time is its own). */
  concurrency?: number;
  /** Longest wait for one user's run; it is cancelled after that (default 30 minutes). */
  timeoutMs?: number;
  /** Called as each user finishes, for progress output. */
  onResult?: (r: UserResult) => void;
}

const failed = (userId: string, error: unknown, partial: Partial<UserResult> = {}): UserResult => ({
  userId,
  behaviours: 0,
  runId: null,
  status: 'failed',
  errorCode: null,
  error: error instanceof Error ? error.message : String(error),
  shown: { included: 0, total: 0 },
  score: null,
  tokens: null,
  durationMs: null,
  ...partial,
});

/** Runs one user's extraction on the server and scores its final events against the reference. */
export async function evaluateUser(api: EvalApi, userId: string, timeoutMs: number): Promise<UserResult> {
  let user;
  try {
    user = await api.user(userId);
  } catch (err) {
    return failed(userId, err);
  }
  const total = user.behaviours.length;
  const signal = AbortSignal.timeout(timeoutMs);
  let runId: string | null = null;
  try {
    runId = await api.start(userId, signal);
    const run = await api.settled(runId, signal);
    const score = scoreEvents({
      reference: referenceEvents(userId, user.behaviours),
      predicted: run.events,
      behaviourIds: new Set(user.behaviours.map((b) => b.id)),
      rejectedCodes: run.rejected.map((r) => r.code),
    });
    const ended = run.finishedAt ?? run.updatedAt;
    return {
      userId,
      behaviours: total,
      runId,
      status: run.status,
      errorCode: run.errorCode,
      error: null,
      shown: run.truncated ?? { included: total, total },
      score,
      tokens: run.usage,
      durationMs: Date.parse(ended) - Date.parse(run.createdAt),
    };
  } catch (err) {
    if (runId && signal.aborted) await api.cancel(runId);
    const why = signal.aborted ? new Error(`no result within ${timeoutMs} ms`) : err;
    // A run that gave nothing scores as one that found nothing: a failure is not left out of the totals.
    const score = scoreEvents({
      reference: referenceEvents(userId, user.behaviours),
      predicted: [],
      behaviourIds: new Set(user.behaviours.map((b) => b.id)),
    });
    return failed(userId, why, { behaviours: total, runId, shown: { included: 0, total }, score });
  }
}

/** Evaluates every user against the server at `baseUrl`; one user's failure does not stop the rest. */
export async function runEval(opts: EvalOptions): Promise<EvalReport> {
  const api = new EvalApi(opts.baseUrl, opts.token);
  const health = await api.health();
  const startedAt = new Date().toISOString();
  const results = new Array<UserResult>(opts.users.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < opts.users.length; i = next++) {
      results[i] = await evaluateUser(api, opts.users[i]!, opts.timeoutMs ?? 30 * 60_000);
      opts.onResult?.(results[i]!);
    }
  };
  const lanes = Math.max(1, Math.min(opts.concurrency ?? 1, opts.users.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  return {
    baseUrl: opts.baseUrl,
    model: health.model.name,
    startedAt,
    users: results,
    totals: totalsOf(results),
  };
}

function totalsOf(users: UserResult[]): EvalReport['totals'] {
  const scored = users.flatMap((u) => (u.score ? [u.score] : []));
  const sum = (f: (s: Score) => number) => scored.reduce((n, s) => n + f(s), 0);
  const [reference, predicted, matched] = [
    sum((s) => s.reference),
    sum((s) => s.predicted),
    sum((s) => s.matched),
  ];
  const precision = predicted === 0 ? (reference === 0 ? 1 : 0) : matched / predicted;
  const recall = reference === 0 ? 1 : matched / reference;
  const rejected = sum((s) => s.rejected.total);
  return {
    users: users.length,
    failed: users.filter((u) => u.status === 'failed').length,
    reference,
    predicted,
    matched,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    meanF1: scored.length === 0 ? 0 : sum((s) => s.f1) / scored.length,
    rejectedShare: rejected + predicted === 0 ? 0 : rejected / (rejected + predicted),
    groundedShare: predicted === 0 ? 1 : sum((s) => s.grounded.valid) / predicted,
    tokens: users.reduce((n, u) => n + (u.tokens?.totalTokens ?? 0), 0),
    durationMs: users.reduce((n, u) => n + (u.durationMs ?? 0), 0),
  };
}
