import { randomBytes } from 'node:crypto';
import type OpenAI from 'openai';
import { type ErrorCode, isRetryable, type RunStatus, type RunSummary, USER_ID_RE } from '@app/shared';
import { AppError } from '../app-error.js';
import type { Config } from '../config.js';
import type { FrameWriter } from '../db/frame-writer.js';
import type { RunsRepo } from '../db/runs-repo.js';
import type { UsersRepo } from '../db/users-repo.js';
import { planChunks } from '../llm/chunk-plan.js';
import { buildPrompt } from '../llm/prompt.js';
import type { Metrics } from '../metrics.js';
import { chunkCalls, promptOf } from './chunk-calls.js';
import { executeRun, handle, type AbortReason, type Call } from './execute-run.js';
import { Run } from './run.js';
import { Subscription, type FrameSink } from './subscription.js';

export interface RunManagerDeps {
  config: Config;
  users: UsersRepo;
  runs: RunsRepo;
  writer: FrameWriter;
  llm: OpenAI;
  modelName: string;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  metrics?: Metrics;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_CHARS = 16;
// Random bytes for 256 ids at a time rather than a randomFillSync call per run (15 % of a run start).
let pool = Buffer.alloc(0);
let poolAt = 0;
const newRunId = (): string => {
  if (poolAt + ID_CHARS > pool.length) {
    pool = randomBytes(ID_CHARS * 256);
    poolAt = 0;
  }
  let id = 'run_';
  for (let i = 0; i < ID_CHARS; i++) id += BASE62[pool[poolAt++]! % 62];
  return id;
};

/**
 * Owns every run: starts, cancels and resumes them, and attaches watchers. A run belongs to the server,
 * not to the connection that started it; only an explicit cancel (or the unwatched policy) stops it.
 */
export class RunManager {
  private readonly loaded = new Map<string, Run>();
  /** Settled runs with no watcher behind, oldest first: kept for re-attach, at most SETTLED_RUNS_IN_MEMORY. */
  private readonly idle = new Map<string, Run>();
  /** Watchers of settled runs that left memory, by run: a run read back (resumed) takes them back. */
  private readonly parked = new Map<string, Set<Subscription>>();
  /** Runs with an idle check planned for the next turn (one per run, however many watchers catch up). */
  private readonly parkChecks = new Set<string>();
  private readonly executing = new Set<Promise<void>>();
  /** Set by shutdown(): a run started now would only be cut by it. */
  private closing = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly deps: RunManagerDeps) {
    // Often enough that an unwatched run ends within 1.5× its timeout, however short the timeout.
    const idleMs = deps.config.UNWATCHED_RUN_TIMEOUT_S * 1000;
    this.sweeper = setInterval(() => this.sweep(), idleMs > 0 ? Math.min(5_000, idleMs / 2) : 5_000);
    this.sweeper.unref();
  }

  /**
   * Marks runs a previous process left running as interrupted, with a final frame that says so, then
   * (RESUME_INTERRUPTED) continues each in the same log, unless it has been interrupted too often: a run
   * that takes the server down must not take it down at every start. Runs a clean stop cancelled are
   * continued too; a run a person cancelled never is.
   */
  recoverInterrupted(): { interrupted: number; continued: number } {
    const seen = new Set<string>();
    const toContinue: Run[] = [];
    const { config, log } = this.deps;
    // Page by page: each page is settled (no longer `running`) before the next is read.
    for (;;) {
      const stale = this.deps.runs
        .list({ status: 'running', limit: 1000, offset: 0 })
        .items.filter((s) => !seen.has(s.id));
      if (stale.length === 0) break;
      for (const s of stale) {
        seen.add(s.id);
        const run = this.open(s.id)!;
        const before = run.interruptions();
        run.status = 'interrupted';
        run.emit({
          type: 'error',
          code: 'interrupted',
          message: '服务重启，运行被中断；可继续生成',
          retryable: true,
          events: run.eventCount,
          rejected: run.rejectedCount,
          pieces: run.pieces,
          usage: run.usage,
          durationMs: run.durationMs,
        });
        run.persist();
        if (config.RESUME_INTERRUPTED === 'on' && before < config.RESUME_INTERRUPTED_MAX)
          toContinue.push(run);
        else if (config.RESUME_INTERRUPTED === 'on')
          log.warn(
            { runId: run.id, interruptions: before + 1 },
            'run interrupted too often; left for a person to resume',
          );
      }
      this.deps.writer.flush();
    }
    // Only now may the batches of those runs go.
    this.deps.writer.recovered();
    // A clean stop cancelled these (a rolling restart): they go on as the crashed ones do.
    const stopped = config.RESUME_INTERRUPTED === 'on' ? this.deps.runs.cancelledByShutdown() : [];
    let continued = 0;
    for (const runId of [...toContinue.map((r) => r.id), ...stopped]) {
      try {
        this.resume(runId, 'restart');
        continued++;
      } catch (err) {
        log.warn({ err, runId }, 'run could not be continued');
      }
    }
    return { interrupted: seen.size, continued };
  }

  /**
   * `start` made safe to retry: the first start with `key` starts a run, every later one returns that
   * run (`created: false`), whatever its state now. A key belongs to one user's run.
   */
  startOnce(
    userId: string,
    key: string | undefined,
    /** Runs only when a new run is about to start (limits that an existing run must not count against). */
    beforeCreate?: () => void,
  ): { run: Run; created: boolean } {
    if (key !== undefined) {
      // A run started moments ago still has its row in the writer's queue; older ones are stored.
      const known = this.deps.writer.queuedRunWithKey(key) ?? this.deps.runs.byStartKey(key);
      if (known && known.userId !== userId) {
        throw new AppError('bad_request', `Start key ${key} already started a run for ${known.userId}.`);
      }
      if (known) return { run: this.require(known.id), created: false };
    }
    beforeCreate?.();
    return { run: this.create(userId, key), created: true };
  }

  start(userId: string): Run {
    return this.create(userId, undefined);
  }

  /** Keys come only through startOnce, which has made sure no run holds the key yet. */
  private create(userId: string, startKey: string | undefined): Run {
    const { users, config, modelName } = this.deps;
    if (!USER_ID_RE.test(userId)) throw new AppError('bad_request', `Malformed user id "${userId}".`);
    const user = users.get(userId);
    if (!user) throw new AppError('user_not_found', `No user with id ${userId}.`);
    this.checkCapacity();
    const behaviours = users.behaviours(userId);
    const plan = planChunks(behaviours, config.PROMPT_BUDGET_CHARS);
    const passes = config.EXTRACTION_PASSES;
    // A history that fits one prompt runs as one call, exactly as short histories always have.
    const chunked = plan.chunks.length > 1 || passes > 1;
    const prompt = chunked
      ? null
      : buildPrompt({ user, behaviours, budgetChars: config.PROMPT_BUDGET_CHARS });
    const truncated = prompt?.truncated ? { included: prompt.included.length, total: prompt.total } : null;
    const behaviourIds = (prompt?.included ?? plan.chunks.flat()).map((b) => b.id);
    const chunkSizes = chunked ? plan.chunks.map((c) => c.length) : null;
    const id = newRunId();
    this.deps.writer.createRun({ id, userId, model: modelName, behaviourIds, truncated, startKey });
    const run = new Run(
      { id, userId, model: modelName, status: 'running', behaviourIds, truncated, chunkSizes, passes },
      this.deps.writer,
    );
    const byId = new Map(behaviours.map((b) => [b.id, b]));
    const calls: Call[] = prompt
      ? [{ messages: prompt.messages }]
      : chunkCalls(run, user, (bid) => byId.get(bid), 1, []);
    this.loaded.set(id, run);
    run.emit({
      type: 'start',
      userId,
      model: modelName,
      message: `开始为用户 ${userId} 抽象事件...`,
      behaviourCount: behaviourIds.length,
      truncated,
      ...(chunkSizes ? { chunks: chunkSizes } : {}),
      ...(passes > 1 ? { passes } : {}),
    });
    if (truncated) {
      run.emit({
        type: 'progress',
        stage: 'prompt',
        message: `行为记录超出提示词预算：仅发送最近 ${truncated.included}/${truncated.total} 条`,
        percent: 0,
      });
    }
    run.emit({ type: 'progress', stage: 'calling', message: '正在调用LLM分析...', percent: 0 });
    this.execute(run, calls, 'start');
    return run;
  }

  cancel(runId: string, reason: Exclude<AbortReason, 'stall'> = 'client'): Run {
    // A running run is always in memory: anything else is answered from its row, not read back whole.
    const run = this.loaded.get(runId);
    if (!run || run.status !== 'running' || !run.controller) {
      const status = run?.status ?? this.storedStatus(runId);
      if (!status) throw new AppError('run_not_found', `No run with id ${runId}.`);
      throw new AppError(
        'run_not_running',
        `Run ${runId} is ${status}; only a running run can be cancelled.`,
      );
    }
    run.controller.abort(reason);
    return run;
  }

  /** Whether the run exists, without reading its log back into memory. */
  exists(runId: string): boolean {
    return this.loaded.has(runId) || this.storedStatus(runId) !== null;
  }

  /** Status from storage (pending writes flushed first, so an evicted run's end is there). */
  private storedStatus(runId: string): RunStatus | null {
    return this.storedSummary(runId)?.status ?? null;
  }

  private storedSummary(runId: string): RunSummary | null {
    this.deps.writer.flush();
    return this.deps.runs.summary(runId);
  }

  /** `by`: a person (any client) or the server itself after a restart. */
  resume(runId: string, by: 'client' | 'restart' = 'client'): Run {
    const run = this.require(runId);
    if (!resumable(run.status, run.errorCode)) {
      throw new AppError(
        'run_not_resumable',
        `Run ${runId} is ${run.status}; only a cancelled, interrupted or retryably failed run can be resumed.`,
      );
    }
    this.checkCapacity();
    const { users } = this.deps;
    const user = users.get(run.userId);
    if (!user) throw new AppError('user_not_found', `User ${run.userId} of run ${runId} no longer exists.`);
    const byId = new Map(users.behaviours(run.userId).map((b) => [b.id, b]));
    const wasInterrupted = run.status === 'interrupted';
    this.idle.delete(runId);
    run.status = 'running';
    run.errorCode = null;
    run.errorMessage = null;
    // A half-written last line: settle it as cut off (a cancel already did) and start a fresh line.
    const cut = run.parser.end({ cutOff: true });
    if (wasInterrupted) handle(run, cut);
    // Lines of the current chunk (the whole text when there are no chunks) already produced.
    const own = run.text.slice(run.currentChunk?.textAt ?? 0);
    const alreadyProduced = own
      .split('\n')
      .slice(0, own.endsWith('\n') ? undefined : -1)
      .map((l) => l.trim())
      .filter(Boolean);
    const message = by === 'restart' ? '服务重启后自动继续生成…' : '继续生成剩余事件…';
    run.emit({ type: 'progress', stage: 'resumed', message, percent: run.percent() });
    if (run.text.length > 0 && !run.text.endsWith('\n')) run.chunk('\n');
    // Finished chunks are not asked again; the interrupted one continues from its produced lines.
    const calls: Call[] = run.chunkSizes
      ? chunkCalls(run, user, (id) => byId.get(id), run.currentChunk?.index ?? 1, alreadyProduced)
      : [
          {
            messages: promptOf(
              user,
              run.behaviourIds.flatMap((id) => byId.get(id) ?? []),
              alreadyProduced,
            ),
          },
        ];
    this.execute(run, calls, 'resume');
    return run;
  }

  /** A run from memory, or loaded back from storage; null when unknown. */
  open(runId: string): Run | null {
    const hot = this.loaded.get(runId);
    if (hot) return hot;
    this.deps.writer.flush();
    const stored = this.deps.runs.stored(runId);
    if (!stored) return null;
    const s = stored.summary;
    const run = new Run(
      {
        id: s.id,
        userId: s.userId,
        model: s.model,
        status: s.status,
        behaviourIds: stored.behaviourIds,
        truncated: s.truncated,
        frames: stored.frames,
        storedSeq: stored.storedSeq,
        text: stored.text,
        eventCount: s.eventCount,
        rejectedCount: s.rejectedCount,
        pieces: stored.pieces,
        durationMs: stored.durationMs,
        usage: s.usage,
        errorCode: s.errorCode,
      },
      this.deps.writer,
    );
    // Died running: lines not yet written are rebuilt from its frames.
    if (stored.lines) this.deps.writer.restoreLines(runId, stored.lines.events, stored.lines.rejected);
    this.loaded.set(runId, run);
    const waiting = this.parked.get(runId);
    this.parked.delete(runId);
    for (const sub of waiting ?? []) {
      sub.rebind(run);
      run.watchers.add(sub);
    }
    // Read back for a watcher, which attaches in the same turn; one that is not gets parked as idle.
    setImmediate(() => this.parkIfIdle(run));
    return run;
  }

  /**
   * Attaches a watcher that gets exactly the frames after `after`, then live ones.
   * `onSettled` fires whenever it has caught up with a run that is no longer running.
   */
  subscribe(
    runId: string,
    sink: FrameSink,
    after: number,
    onSettled?: (sub: Subscription) => void,
    /** Runs after validation, before the first frame is sent (for replies that must precede frames). */
    onAttached?: (run: Run) => void,
  ): Subscription {
    const run = this.require(runId);
    if (!Number.isInteger(after) || after < 0 || after > run.lastSeq) {
      throw new AppError(
        'invalid_cursor',
        `Cursor ${after} is outside run ${runId}'s log (0..${run.lastSeq}).`,
        {
          lastSeq: run.lastSeq,
        },
      );
    }
    const sub = new Subscription(runId, run, sink, after, (s) => {
      onSettled?.(s);
      // Caught up with a settled run: its log may now leave memory like an unwatched one's.
      if (!s.isClosed) this.checkIdleSoon(runId);
    });
    run.watchers.add(sub);
    this.idle.delete(runId);
    run.lastWatchedAt = Date.now();
    onAttached?.(run);
    sub.pump();
    return sub;
  }

  unsubscribe(sub: Subscription): void {
    sub.close();
    const run = this.loaded.get(sub.runId);
    if (run?.watchers.delete(sub)) {
      run.lastWatchedAt = Date.now();
      this.parkIfIdle(run);
    }
    const parked = this.parked.get(sub.runId);
    if (parked?.delete(sub) && parked.size === 0) this.parked.delete(sub.runId);
  }

  /** Runs held in memory: running, watched while catching up, or settled and kept for re-attach. */
  inMemory(): number {
    return this.loaded.size;
  }

  /** Subscriptions waiting, as bare cursors, on settled runs that left memory. */
  parkedWatchers(): number {
    let n = 0;
    for (const subs of this.parked.values()) n += subs.size;
    return n;
  }

  /**
   * Where a run's log ends and whether it is settled, without reading the log back: from memory, or from
   * its row (a run not in memory is settled, and its row was written when it settled).
   */
  position(runId: string): { settled: boolean; lastSeq: number } | null {
    const run = this.loaded.get(runId);
    if (run) return { settled: run.settled, lastSeq: run.lastSeq };
    const s = this.storedSummary(runId);
    return s ? { settled: s.status !== 'running', lastSeq: s.lastSeq } : null;
  }

  /** Text of a run streaming now (its row holds the text only once it settles). */
  liveText(runId: string): string | undefined {
    const run = this.loaded.get(runId);
    return run?.status === 'running' ? run.text : undefined;
  }

  /** Makes every queued write visible to readers now. */
  flushWrites(): void {
    this.deps.writer.flush();
  }

  /** Whether a run is generating now (a running run is always in memory: nothing is read back). */
  isRunning(runId: string): boolean {
    return this.loaded.get(runId)?.status === 'running';
  }

  running(): number {
    let n = 0;
    for (const r of this.loaded.values()) if (r.status === 'running') n++;
    return n;
  }

  /** Stops every run (they end as cancelled with reason `shutdown`, resumable) and writes everything. */
  async shutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const r of this.loaded.values()) if (r.status === 'running') r.controller?.abort('shutdown');
    await Promise.allSettled([...this.executing]);
    this.deps.writer.flush();
  }

  private checkCapacity(): void {
    if (this.closing) {
      throw new AppError(
        'shutting_down',
        'The server is shutting down; start or resume the run again in a moment.',
      );
    }
    const max = this.deps.config.MAX_RUNNING_RUNS;
    if (this.running() >= max) {
      throw new AppError(
        'too_many_runs',
        `The server is already generating ${max} runs; try again when some end.`,
      );
    }
  }

  private require(runId: string): Run {
    const run = this.open(runId);
    if (!run) throw new AppError('run_not_found', `No run with id ${runId}.`);
    return run;
  }

  private execute(run: Run, calls: Call[], kind: 'start' | 'resume'): void {
    run.persist();
    this.deps.metrics?.runsStarted.inc({ kind });
    const p = executeRun(run, {
      llm: this.deps.llm,
      config: this.deps.config,
      calls,
      log: this.deps.log,
    }).finally(() => {
      this.deps.metrics?.runsSettled.inc({ status: run.status });
      this.executing.delete(p);
      this.parkIfIdle(run);
    });
    this.executing.add(p);
  }

  /**
   * A settled run whose watchers (if any) have all of it joins the idle list; past
   * SETTLED_RUNS_IN_MEMORY the oldest leave memory at once (their log is stored, `open` reads them
   * back), so memory stays bounded however many runs finish between sweeps, and however many
   * finished runs a socket stays subscribed to.
   */
  private parkIfIdle(run: Run): void {
    if (this.isIdle(run)) {
      this.idle.delete(run.id);
      this.idle.set(run.id, run);
    }
    for (const [id, oldest] of this.idle) {
      if (this.idle.size <= this.deps.config.SETTLED_RUNS_IN_MEMORY) break;
      this.idle.delete(id);
      // Resumed or watched again since it was parked: it stays.
      if (this.isIdle(oldest)) this.evict(oldest);
    }
  }

  private checkIdleSoon(runId: string): void {
    if (this.parkChecks.has(runId)) return;
    this.parkChecks.add(runId);
    setImmediate(() => {
      this.parkChecks.delete(runId);
      const run = this.loaded.get(runId);
      if (run) this.parkIfIdle(run);
    });
  }

  private isIdle(run: Run): boolean {
    if (run.status === 'running' || this.loaded.get(run.id) !== run) return false;
    for (const w of run.watchers) if (!w.caughtUp) return false;
    return true;
  }

  /** The run leaves memory; its watchers stay subscribed, parked until it is read back. */
  private evict(run: Run): void {
    this.loaded.delete(run.id);
    this.idle.delete(run.id);
    if (run.watchers.size === 0) return;
    const parked = this.parked.get(run.id) ?? new Set<Subscription>();
    for (const sub of run.watchers) {
      sub.park();
      parked.add(sub);
    }
    run.watchers.clear();
    this.parked.set(run.id, parked);
  }

  /**
   * Drops settled runs from memory 30 s after they were last attached to or left (watchers caught up
   * stay subscribed, parked) and applies the unwatched-run policy to running ones.
   */
  private sweep(): void {
    const now = Date.now();
    const idleMs = this.deps.config.UNWATCHED_RUN_TIMEOUT_S * 1000;
    for (const run of this.loaded.values()) {
      if (run.status !== 'running') {
        if (!this.isIdle(run)) run.lastWatchedAt = now;
        else if (now - run.lastWatchedAt > 30_000) this.evict(run);
      } else if (run.watchers.size > 0) {
        run.lastWatchedAt = now;
      } else if (idleMs > 0 && now - run.lastWatchedAt > idleMs) {
        run.controller?.abort('unwatched' satisfies AbortReason);
      }
    }
  }
}

function resumable(status: RunStatus, errorCode: string | null): boolean {
  if (status === 'cancelled' || status === 'interrupted') return true;
  return status === 'error' && errorCode !== null && isRetryable(errorCode as ErrorCode);
}
