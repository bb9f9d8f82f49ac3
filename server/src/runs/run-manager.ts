import { randomBytes } from 'node:crypto';
import type OpenAI from 'openai';
import { type ErrorCode, isRetryable, type RunStatus, USER_ID_RE } from '@app/shared';
import { AppError } from '../app-error.js';
import type { Config } from '../config.js';
import type { LogWriter, RunsStore, UsersStore } from '../store/types.js';
import { planChunks } from '../llm/chunk-plan.js';
import { buildPrompt } from '../llm/prompt.js';
import type { Metrics } from '../metrics.js';
import { chunkCalls, promptOf } from './chunk-calls.js';
import { executeRun, handle, type AbortReason, type Call } from './execute-run.js';
import type { Ownership } from './ownership.js';
import type { RemoteRun } from './remote-run.js';
import { RemoteViews } from './remote-views.js';
import { Run } from './run.js';
import { Subscription, type FrameSink } from './subscription.js';

export interface RunManagerDeps {
  config: Config;
  users: UsersStore;
  runs: RunsStore;
  writer: LogWriter;
  llm: OpenAI;
  modelName: string;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  metrics?: Metrics;
  /** Which instance generates which run: this one always (embedded), or by lease (cluster). */
  ownership: Ownership;
  /** Cluster: how often to look for runs whose owner died. */
  takeoverCheckMs?: number;
}

/** A run as watchers see it: generated here, or by another instance. */
export type WatchedRun = Run | RemoteRun;

/** Checks that run with a start or resume in the same turn as it is created, so no other start slips between. */
export interface StartHooks {
  /** Throws to refuse (a limit); runs only when a run is about to start. */
  check?(): void;
  /** The run has started. */
  started?(run: Run): void;
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
  /** Runs being read back from storage. */
  private readonly reading = new Map<string, Promise<Run | null>>();
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
  /** Runs other instances generate, followed here for local watchers. */
  private readonly remote: RemoteViews;
  private takeoverTimer: NodeJS.Timeout | null = null;
  /**
   * Runs a takeover here is under way for. Another one at the same time (a sweep overlapping a slow one, a
   * handoff notice) passes the checks before the first holds the lease and then claims it as its own: it
   * would continue the run a second time, or let go of the lease the first is generating under.
   */
  private readonly takingOver = new Set<string>();
  /** Runs taken over from instances that died or handed them over. */
  takenOver = 0;

  constructor(private readonly deps: RunManagerDeps) {
    this.remote = new RemoteViews(deps);
    // Often enough that an unwatched run ends within 1.5× its timeout, however short the timeout.
    const idleMs = deps.config.UNWATCHED_RUN_TIMEOUT_S * 1000;
    this.sweeper = setInterval(() => this.sweep(), idleMs > 0 ? Math.min(5_000, idleMs / 2) : 5_000);
    this.sweeper.unref();
  }

  /** Cluster mode: listens to other instances and takes over runs whose owner is gone. */
  async startSharing(): Promise<void> {
    const { ownership } = this.deps;
    if (!ownership.shared) return;
    await ownership.start({
      cancel: (runId) => this.loaded.get(runId)?.controller?.abort('client' satisfies AbortReason),
      resumedElsewhere: (runId) => this.resumedElsewhere(runId),
      handedOver: (runId) => void this.takeOver(runId),
      busLost: () => {
        this.deps.log.warn({}, 'Redis lost the shared state: runs generating here end with bus_unavailable');
        for (const r of this.loaded.values())
          if (r.status === 'running') r.controller?.abort('bus' satisfies AbortReason);
      },
      lost: (runId) => {
        this.deps.log.warn({ runId }, 'lease of a running run lost: it goes on at another instance');
        this.loaded.get(runId)?.controller?.abort('handoff' satisfies AbortReason);
      },
    });
    const every = this.deps.takeoverCheckMs ?? 1000;
    this.takeoverTimer = setInterval(() => void this.takeOverOrphans(), every);
    this.takeoverTimer.unref();
  }

  /** Runs stored as running that no instance holds the lease of: their owner died. */
  private async takeOverOrphans(): Promise<void> {
    if (this.closing) return;
    try {
      const running = (await this.deps.runs.runningIds()).filter(
        // Settled here, its row not stored yet: the lease is still this instance's, the run no orphan.
        (id) => this.loaded.get(id)?.status !== 'running' && !this.deps.ownership.holds(id),
      );
      for (const id of await this.deps.ownership.unowned(running)) await this.takeOver(id);
    } catch (err) {
      this.deps.log.warn({ err }, 'looking for runs to take over failed');
    }
  }

  /** Continues a run another instance was generating, in the same log, if this instance gets its lease. */
  private async takeOver(runId: string): Promise<void> {
    if (
      this.closing ||
      this.takingOver.has(runId) ||
      this.loaded.get(runId)?.status === 'running' ||
      this.deps.ownership.holds(runId)
    )
      return;
    this.takingOver.add(runId);
    try {
      await this.takeOverOnce(runId);
    } finally {
      this.takingOver.delete(runId);
    }
  }

  private async takeOverOnce(runId: string): Promise<void> {
    // Its frames must all be there to go on in the same log (Redis may have lost them), before and after
    // the lease is taken (a restart of Redis in between would hand out a lease on an empty stream).
    if (!(await this.deps.ownership.logIntact(runId))) return;
    if (!(await this.deps.ownership.claim(runId))) return;
    if (!(await this.deps.ownership.logIntact(runId))) {
      await this.deps.ownership.release(runId);
      return;
    }
    try {
      this.dropStaleCopy(runId);
      const run = await this.open(runId);
      if (!run || run.status !== 'running') {
        await this.deps.ownership.release(runId);
        return;
      }
      // Not a terminal frame: watchers everywhere see the run go on.
      run.interrupt(false);
      await this.resume(runId, 'takeover');
      this.takenOver++;
      this.deps.log.warn({ runId }, 'run taken over from an instance that is gone');
    } catch (err) {
      await this.deps.ownership.release(runId).catch(() => {});
      this.deps.log.warn({ err, runId }, 'taking over a run failed');
    }
  }

  /** Another instance resumed the run: a settled copy here is out of date; its watchers follow the run there. */
  private resumedElsewhere(runId: string): void {
    const run = this.loaded.get(runId);
    if (run?.status === 'running') return;
    if (run) this.evict(run);
    const waiting = this.parked.get(runId);
    this.parked.delete(runId);
    if (waiting) this.remote.attach(runId, waiting).catch(() => {});
  }

  /** A settled run held here may be stale once runs are shared: the next read takes it from storage. */
  private dropStaleCopy(runId: string): void {
    const run = this.loaded.get(runId);
    if (run && run.status !== 'running') this.evict(run);
  }

  /** The run as a watcher here gets it: generated here, read back, or followed from another instance. */
  private async view(runId: string): Promise<WatchedRun> {
    const hot = this.loaded.get(runId) ?? this.remote.get(runId);
    if (hot) return hot;
    if (this.deps.ownership.shared) {
      const s = await this.deps.runs.summary(runId);
      if (s?.status === 'running' && !this.loaded.has(runId)) return this.remote.follow(runId);
    }
    return this.require(runId);
  }

  /**
   * Marks runs a previous process left running as interrupted, with a final frame that says so, then
   * (RESUME_INTERRUPTED) continues each in the same log, unless it has been interrupted too often: a run
   * that takes the server down must not take it down at every start. Runs a clean stop cancelled are
   * continued too; a run a person cancelled never is.
   */
  async recoverInterrupted(): Promise<{ interrupted: number; continued: number }> {
    const seen = new Set<string>();
    const toContinue: Run[] = [];
    const { config, log } = this.deps;
    // Page by page: each page is settled (no longer `running`) before the next is read. Shared runs are
    // not this process's to settle: one whose owner is gone is taken over instead.
    for (; !this.deps.ownership.shared;) {
      const stale = (await this.deps.runs.list({ status: 'running', limit: 1000, offset: 0 })).items.filter(
        (s) => !seen.has(s.id),
      );
      if (stale.length === 0) break;
      for (const s of stale) {
        seen.add(s.id);
        const run = (await this.open(s.id))!;
        const before = run.interruptions();
        run.interrupt(true);
        if (config.RESUME_INTERRUPTED === 'on' && before < config.RESUME_INTERRUPTED_MAX)
          toContinue.push(run);
        else if (config.RESUME_INTERRUPTED === 'on')
          log.warn(
            { runId: run.id, interruptions: before + 1 },
            'run interrupted too often; left for a person to resume',
          );
      }
      await this.deps.writer.flush();
    }
    // Only now may the batches of those runs go.
    this.deps.writer.recovered();
    // A clean stop cancelled these (a rolling restart): they go on as the crashed ones do.
    const stopped = config.RESUME_INTERRUPTED === 'on' ? await this.deps.runs.cancelledByShutdown() : [];
    let continued = 0;
    for (const runId of [...toContinue.map((r) => r.id), ...stopped]) {
      try {
        await this.resume(runId, 'restart');
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
  async startOnce(
    userId: string,
    key: string | undefined,
    /** Limits that an existing run must not count against: they apply only when a new run starts. */
    hooks?: StartHooks,
  ): Promise<{ run: Run; created: boolean }> {
    const known = key === undefined ? null : await this.runWithKey(key);
    if (known && known.userId !== userId) {
      throw new AppError('bad_request', `Start key ${key} already started a run for ${known.userId}.`);
    }
    if (known) return { run: await this.require(known.id), created: false };
    return this.create(userId, key, hooks);
  }

  async start(userId: string): Promise<Run> {
    return (await this.create(userId, undefined)).run;
  }

  /** A run started moments ago still has its row in the writer's queue; older ones are stored. */
  private async runWithKey(key: string): Promise<{ id: string; userId: string } | null> {
    return this.deps.writer.queuedRunWithKey(key) ?? (await this.deps.runs.byStartKey(key));
  }

  private async create(
    userId: string,
    startKey: string | undefined,
    hooks?: StartHooks,
  ): Promise<{ run: Run; created: boolean }> {
    const { users, config, modelName } = this.deps;
    if (!USER_ID_RE.test(userId)) throw new AppError('bad_request', `Malformed user id "${userId}".`);
    const [user, behaviours] = await Promise.all([users.get(userId), users.behaviours(userId)]);
    if (!user) throw new AppError('user_not_found', `No user with id ${userId}.`);
    const id = newRunId();
    await this.deps.ownership.claim(id);
    // From here to the run's creation nothing awaits: limits hold, and a key another start took meanwhile is seen.
    if (startKey !== undefined) {
      const queued = this.deps.writer.queuedRunWithKey(startKey);
      if (queued) {
        if (queued.userId !== userId)
          throw new AppError(
            'bad_request',
            `Start key ${startKey} already started a run for ${queued.userId}.`,
          );
        return { run: await this.require(queued.id), created: false };
      }
    }
    hooks?.check?.();
    this.checkCapacity();
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
    hooks?.started?.(run);
    return { run, created: true };
  }

  async cancel(
    runId: string,
    reason: Exclude<AbortReason, 'stall' | 'handoff' | 'bus'> = 'client',
  ): Promise<{ id: string }> {
    // A running run is always in memory where it generates: anything else is answered from its row.
    const run = this.loaded.get(runId);
    if (!run || run.status !== 'running' || !run.controller) {
      // Generated by another instance: its owner stops the upstream request.
      const owner = await this.deps.ownership.ownerElsewhere(runId);
      if (owner !== null) {
        await this.deps.ownership.cancelElsewhere(owner, runId);
        return { id: runId };
      }
      const status = run?.status ?? (await this.storedStatus(runId));
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
  async exists(runId: string): Promise<boolean> {
    return this.loaded.has(runId) || (await this.storedStatus(runId)) !== null;
  }

  /** Status from storage (reads see pending writes, so an evicted run's end is there). */
  private async storedStatus(runId: string): Promise<RunStatus | null> {
    return (await this.deps.runs.summary(runId))?.status ?? null;
  }

  /** `by`: a person (any client) or the server itself after a restart. */
  async resume(
    runId: string,
    by: 'client' | 'restart' | 'takeover' = 'client',
    hooks?: StartHooks,
  ): Promise<Run> {
    const { ownership } = this.deps;
    if (ownership.shared && by !== 'takeover') {
      // The lease decides between instances resuming the same run at once; a copy held here may be stale.
      if (this.loaded.get(runId)?.status !== 'running') {
        if (!(await this.claimSoon(runId))) {
          throw new AppError('run_not_resumable', `Run ${runId} is being generated by another instance.`);
        }
        this.dropStaleCopy(runId);
      }
    }
    try {
      const run = await this.resumeOwned(runId, by, hooks);
      this.remote.adoptInto(run);
      if (ownership.shared) await ownership.announce('resumed', runId);
      return run;
    } catch (err) {
      if (ownership.shared && this.loaded.get(runId)?.status !== 'running')
        await ownership.release(runId).catch(() => {});
      throw err;
    }
  }

  /**
   * The lease of a run, waiting a moment for it: an owner lets go of a run just after its last frame is
   * stored, so a client that saw the run end may ask to resume before the owner has let go.
   */
  private async claimSoon(runId: string, ms = 1000): Promise<boolean> {
    const until = performance.now() + ms;
    for (;;) {
      if (await this.deps.ownership.claim(runId)) return true;
      if (performance.now() >= until) return false;
      await new Promise((ok) => setTimeout(ok, 25));
    }
  }

  private async resumeOwned(
    runId: string,
    by: 'client' | 'restart' | 'takeover',
    hooks?: StartHooks,
  ): Promise<Run> {
    const run = await this.require(runId);
    this.checkResumable(run);
    const { users } = this.deps;
    const [user, behaviours] = await Promise.all([users.get(run.userId), users.behaviours(run.userId)]);
    if (!user) throw new AppError('user_not_found', `User ${run.userId} of run ${runId} no longer exists.`);
    // Checked again with nothing awaited from here on: another resume may have won meanwhile.
    this.checkResumable(run);
    hooks?.check?.();
    this.checkCapacity();
    const byId = new Map(behaviours.map((b) => [b.id, b]));
    const wasInterrupted = run.status === 'interrupted';
    this.idle.delete(runId);
    run.restart();
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
    const message = {
      client: '继续生成剩余事件…',
      restart: '服务重启后自动继续生成…',
      takeover: '原实例已停止，本实例接管并继续生成…',
    }[by];
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
    hooks?.started?.(run);
    return run;
  }

  private checkResumable(run: Run): void {
    if (!resumable(run.status, run.errorCode)) {
      throw new AppError(
        'run_not_resumable',
        `Run ${run.id} is ${run.status}; only a cancelled, interrupted or retryably failed run can be resumed.`,
      );
    }
  }

  /** A run from memory, or loaded back from storage; null when unknown. */
  async open(runId: string): Promise<Run | null> {
    const hot = this.loaded.get(runId);
    if (hot) return hot;
    // Two readers of the same run at once share one read: a run has one object in memory.
    let reading = this.reading.get(runId);
    if (!reading) {
      reading = this.readBack(runId).finally(() => this.reading.delete(runId));
      this.reading.set(runId, reading);
    }
    return reading;
  }

  private async readBack(runId: string): Promise<Run | null> {
    const stored = await this.deps.runs.stored(runId);
    if (!stored) return null;
    // Started or read back by someone else while this read was under way.
    const hot = this.loaded.get(runId);
    if (hot) return hot;
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
    // Generated by another instance (a start retried here with its key): a copy of how it stands, for
    // this caller only. Kept or given its lines, it would stand for the run here and overwrite the
    // owner's records with this moment's.
    if (s.status === 'running' && this.deps.ownership.shared && !this.deps.ownership.holds(runId)) return run;
    // Died running: lines not yet written are rebuilt from its frames.
    if (stored.lines) this.deps.writer.restoreLines(runId, stored.lines.events, stored.lines.rejected);
    this.loaded.set(runId, run);
    const waiting = this.parked.get(runId);
    this.parked.delete(runId);
    for (const sub of waiting ?? []) {
      sub.rebind(run);
      run.watchers.add(sub);
      // Parked behind the log's end (evicted as stale): what it missed goes now.
      sub.pump();
    }
    // Read back for a watcher, which attaches in the same turn; one that is not gets parked as idle.
    setImmediate(() => this.parkIfIdle(run));
    return run;
  }

  /**
   * Attaches a watcher that gets exactly the frames after `after`, then live ones.
   * `onSettled` fires whenever it has caught up with a run that is no longer running.
   */
  async subscribe(
    runId: string,
    sink: FrameSink,
    after: number,
    onSettled?: (sub: Subscription) => void,
    /** Runs after validation, before the first frame is sent (for replies that must precede frames). */
    onAttached?: (run: WatchedRun) => void,
  ): Promise<Subscription> {
    const run = await this.view(runId);
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
    this.remote.detach(sub);
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
  async position(runId: string): Promise<{ settled: boolean; lastSeq: number } | null> {
    const run = this.loaded.get(runId) ?? this.remote.get(runId);
    if (run) return { settled: run.settled, lastSeq: run.lastSeq };
    const s = await this.deps.runs.summary(runId);
    return s ? { settled: s.status !== 'running', lastSeq: s.lastSeq } : null;
  }

  /** Text of a run streaming now (its row holds the text only once it settles). */
  liveText(runId: string): string | undefined {
    const run = this.loaded.get(runId);
    return run?.status === 'running' ? run.text : undefined;
  }

  /** Makes every queued write visible to readers now. */
  flushWrites(): Promise<void> {
    return this.deps.writer.flush();
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
    if (this.takeoverTimer) clearInterval(this.takeoverTimer);
    const { ownership } = this.deps;
    // A rolling deploy: with other instances up, running runs go on there instead of ending here.
    const handOver = ownership.shared && (await ownership.others().catch(() => [])).length > 0;
    const reason: AbortReason = handOver ? 'handoff' : 'shutdown';
    for (const r of this.loaded.values()) if (r.status === 'running') r.controller?.abort(reason);
    await Promise.allSettled([...this.executing]);
    await this.deps.writer.flush();
    this.remote.clear();
    await ownership.close();
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

  private async require(runId: string): Promise<Run> {
    const run = await this.open(runId);
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
    })
      .then(() => this.settledHere(run))
      .catch((err: unknown) => this.deps.log.warn({ err, runId: run.id }, 'letting go of a run failed'))
      .finally(() => {
        this.executing.delete(p);
        this.parkIfIdle(run);
      });
    this.executing.add(p);
  }

  /** After an attempt: the lease goes once its last frame is stored; a handed-over run leaves memory. */
  private async settledHere(run: Run): Promise<void> {
    const { ownership } = this.deps;
    if (run.status !== 'running') {
      this.deps.metrics?.runsSettled.inc({ status: run.status });
      // Held until its row says it settled: a run stored as running with no lease is taken over.
      await run.durable();
      await this.deps.writer.settled(run.id);
      await ownership.release(run.id).catch(() => {});
      return;
    }
    // Handed over (shutdown) or lease lost: another instance continues it from the stored log, and
    // watchers here follow it there.
    await run.durable();
    await this.deps.writer.flush();
    this.loaded.delete(run.id);
    this.idle.delete(run.id);
    const watchers = [...run.watchers];
    run.watchers.clear();
    await ownership.release(run.id).catch(() => {});
    await ownership.announce('handoff', run.id).catch(() => {});
    if (!this.closing) await this.remote.attach(run.id, watchers);
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
