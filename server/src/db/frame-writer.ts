import type { ExtractedEvent, RejectedLine, RunStatus } from '@app/shared';
import type { LogWriter, NewRunRow, PatchSource } from '../store/types.js';
import type { DB } from './open-database.js';

export type { NewRunRow, PatchSource, RunPatch } from '../store/types.js';

/** Lines of a run waiting for its next counter write. */
interface PendingLines {
  events: ExtractedEvent[];
  rejected: RejectedLine[];
  /** Events (by line) merged into later ones: their rows go. */
  dropped: number[];
}

/**
 * Groups every write of every run into one transaction per event-loop turn (or per `flushMs`, when set).
 * The frames of that turn, of all runs, are one row of `frame_batches` (one JSON per line), so a commit
 * costs a row or two at any number of runs; when a run settles its whole log becomes its one row of
 * `run_logs`. Only after the commit are runs told (`committed(seq)`), so watchers never get a frame a crash
 * could take back; the WAL survives a process crash without an fsync per commit. Counters of running
 * runs are written every `patchMs` (and on every forced flush, so reads are current), not every turn.
 */
export class FrameWriter implements LogWriter {
  private newRuns: NewRunRow[] = [];
  private journal: string[] = [];
  /** Runs with frames in `journal`. */
  private journalRuns = new Map<string, PatchSource>();
  /** Runs whose frames the transaction being written commits; told once it has. */
  private committing: PatchSource[] = [];
  /** Parsed lines per run, written with its counters: rows keyed by run would dirty a page per run per tick. */
  private lines = new Map<string, PendingLines>();
  /** Runs whose stored events are replaced, not added to, by their pending lines. */
  private readonly replaceLines = new Set<string>();
  /** Runs whose counters changed since they were last written. */
  private dirty = new Map<string, PatchSource>();
  /** Status each running run's row holds: a change (a resume) is written at once, not within a second. */
  private readonly statusWritten = new Map<string, RunStatus>();
  /** When each running run's row was last written: runs fall due one by one, not all in one tick. */
  private readonly patchedAt = new Map<string, number>();
  /** Batch id of the first frame of each running run: batches below the smallest are settled. */
  private readonly journalFloor = new Map<string, number>();
  /** Batches a previous process left for runs it never settled are kept until recovery is done. */
  private keepAll: boolean;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private timerDue = 0;
  private lastPruneAt = performance.now();
  private readonly stmt;
  private readonly writeAll;

  constructor(
    db: DB,
    private readonly flushMs: number,
    private readonly patchMs = 1000,
  ) {
    this.keepAll = db.prepare("SELECT 1 FROM runs WHERE status = 'running' LIMIT 1").get() !== undefined;
    this.stmt = {
      insertRun: db.prepare(
        `INSERT INTO runs (id, user_id, model, status, created_at, updated_at, behaviour_ids, truncated_included, truncated_total, start_key)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
      ),
      batch: db.prepare('INSERT INTO frame_batches (frames) VALUES (?)'),
      log: db.prepare('INSERT OR REPLACE INTO run_logs (run_id, frames) VALUES (?, ?)'),
      prune: db.prepare('DELETE FROM frame_batches WHERE id < ?'),
      clearEvents: db.prepare('DELETE FROM events WHERE run_id = ?'),
      dropEvent: db.prepare('DELETE FROM events WHERE run_id = ? AND line_no = ?'),
      event: db.prepare(
        `INSERT INTO events (run_id, user_id, line_no, event_type, start_time, end_time, source_ids, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      rejected: db.prepare(
        'INSERT OR REPLACE INTO rejected_lines (run_id, line_no, text, code, reason) VALUES (?, ?, ?, ?, ?)',
      ),
      updateRun: db.prepare(
        `UPDATE runs SET text = CASE WHEN @finished THEN @text ELSE text END, last_seq = @lastSeq, event_count = @eventCount,
           rejected_count = @rejectedCount, pieces = @pieces, duration_ms = @durationMs, status = @status,
           prompt_tokens = @promptTokens, completion_tokens = @completionTokens, usage_estimated = @estimated,
           error_code = @errorCode, error_message = @errorMessage, updated_at = @now, resume_on_start = @resumeOnStart,
           finished_at = CASE WHEN @finished THEN @now ELSE NULL END
         WHERE id = @id`,
      ),
    };
    this.writeAll = db.transaction((force: boolean) => this.writePending(force));
  }

  /** Recovery has settled every run a previous process left running: its batches may go. */
  recovered(): void {
    this.keepAll = false;
  }

  /** Queues the row of a new run; it is written with the run's first frames. */
  createRun(row: NewRunRow): void {
    this.newRuns.push(row);
    this.statusWritten.set(row.id, 'running');
    this.patchedAt.set(row.id, performance.now());
    this.schedule();
  }

  /** A run created with this start key whose row is still queued (not yet in the database). */
  queuedRunWithKey(key: string): NewRunRow | undefined {
    return this.newRuns.find((r) => r.startKey === key);
  }

  frame(run: PatchSource, json: string): void {
    this.journal.push(json);
    if (!this.journalRuns.has(run.id)) this.journalRuns.set(run.id, run);
    this.touch(run);
  }

  event(e: ExtractedEvent): void {
    this.linesOf(e.runId).events.push(e);
  }

  rejectedLine(runId: string, line: RejectedLine): void {
    this.linesOf(runId).rejected.push(line);
  }

  /** Events of a run merged into a later one: their rows are deleted with its next lines. */
  dropEvents(runId: string, lineNos: readonly number[]): void {
    this.linesOf(runId).dropped.push(...lineNos);
  }

  /**
   * Replaces a run's stored lines with these (recovery: lines not yet written when the process died are
   * rebuilt from its frames, which were).
   */
  restoreLines(runId: string, events: ExtractedEvent[], rejected: RejectedLine[]): void {
    this.lines.set(runId, { events, rejected, dropped: [] });
    this.replaceLines.add(runId);
    this.schedule();
  }

  private linesOf(runId: string): PendingLines {
    let l = this.lines.get(runId);
    if (!l) this.lines.set(runId, (l = { events: [], rejected: [], dropped: [] }));
    return l;
  }

  /** Marks the run's counters as changed; they are read when the batch is written. */
  touch(run: PatchSource): void {
    if (!this.dirty.has(run.id)) this.dirty.set(run.id, run);
    this.schedule();
  }

  /** Writes everything pending now, counters included (run end, shutdown, and readers of storage). */
  flush(): Promise<void> {
    this.write(true);
    return Promise.resolve();
  }

  /** A run's settle is committed with its last frames, in one transaction. */
  settled(): Promise<void> {
    return Promise.resolve();
  }

  private write(force: boolean): void {
    this.clearTimer();

    if (
      this.journal.length === 0 &&
      this.dirty.size === 0 &&
      this.newRuns.length === 0 &&
      this.lines.size === 0
    ) {
      // Nothing queued, but batches of runs settled since the last prune go on a forced write (a stop).
      if (force) this.prune();
      return;
    }
    try {
      this.writeAll(force);
    } catch (err) {
      this.committing = [];
      throw err;
    }
    const runs = this.committing;
    this.committing = [];
    for (const run of runs) run.committed(run.lastSeq);
  }

  /** Makes sure a write happens within `delayMs` (an earlier one already planned is kept); 0: this turn. */
  private schedule(delayMs = this.flushMs): void {
    const due = performance.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    // setImmediate runs after this turn's I/O callbacks: one commit covers every piece they brought.
    this.timer =
      delayMs <= 0 ? setImmediate(() => this.write(false)) : setTimeout(() => this.write(false), delayMs);
  }

  private clearTimer(): void {
    if (!this.timer) return;
    if ('refresh' in this.timer) clearTimeout(this.timer);
    else clearImmediate(this.timer);
    this.timer = null;
  }

  private writePending(force: boolean): void {
    const { stmt } = this;
    const iso = new Date().toISOString();
    for (const r of this.newRuns) {
      const t = r.truncated;
      stmt.insertRun.run(
        r.id,
        r.userId,
        r.model,
        iso,
        iso,
        JSON.stringify(r.behaviourIds),
        t?.included ?? null,
        t?.total ?? null,
        r.startKey ?? null,
      );
    }
    this.newRuns = [];
    if (this.journal.length > 0) {
      const id = Number(stmt.batch.run(this.journal.join('\n')).lastInsertRowid);
      for (const [runId, run] of this.journalRuns) {
        if (!this.journalFloor.has(runId)) this.journalFloor.set(runId, id);
        this.committing.push(run);
      }
      this.journal = [];
      this.journalRuns.clear();
    }
    const now = performance.now();
    let nextDue = Infinity;
    for (const [id, source] of this.dirty) {
      const patchedAt = this.patchedAt.get(id) ?? -Infinity;
      // Recovery trusts the row's status: a run marked running again must say so with its first batch.
      const due =
        force ||
        source.status !== 'running' ||
        this.statusWritten.get(id) !== source.status ||
        now - patchedAt >= this.patchMs;
      if (!due) {
        nextDue = Math.min(nextDue, patchedAt + this.patchMs);
        continue;
      }
      const patch = source.snapshot();
      this.writeLines(id);
      if (patch.finished) {
        this.settle(source);
        this.statusWritten.delete(id);
        this.patchedAt.delete(id);
      } else {
        this.statusWritten.set(id, patch.status);
        this.patchedAt.set(id, now);
      }
      this.dirty.delete(id);
      const u = patch.usage;
      this.stmt.updateRun.run({
        id,
        now: iso,
        text: patch.text,
        lastSeq: patch.lastSeq,
        eventCount: patch.eventCount,
        rejectedCount: patch.rejectedCount,
        pieces: patch.pieces,
        durationMs: patch.durationMs,
        status: patch.status,
        errorCode: patch.errorCode,
        errorMessage: patch.errorMessage,
        resumeOnStart: patch.resumeOnStart ? 1 : 0,
        finished: patch.finished ? 1 : 0,
        promptTokens: u?.promptTokens ?? null,
        completionTokens: u?.completionTokens ?? null,
        estimated: u ? (u.estimated ? 1 : 0) : null,
      });
    }
    if (force || now - this.lastPruneAt >= this.patchMs) {
      // Lines with no dirty run behind them (restored ones) go with the prune.
      for (const runId of [...this.lines.keys()]) this.writeLines(runId);
      this.lastPruneAt = now;
      this.prune();
    }
    // Counters left for later still get written on time when the run goes quiet.
    if (this.dirty.size > 0 || this.lines.size > 0) {
      const at = Math.min(nextDue, this.lastPruneAt + this.patchMs);
      this.schedule(Math.max(this.flushMs, at - performance.now()));
    }
  }

  private writeLines(runId: string): void {
    const l = this.lines.get(runId);
    if (!l) return;
    this.lines.delete(runId);
    const { stmt } = this;
    if (this.replaceLines.delete(runId)) stmt.clearEvents.run(runId);
    for (const e of l.events) {
      const ids = JSON.stringify(e.sourceBehaviorIds);
      stmt.event.run(e.runId, e.userId, e.lineNo, e.eventType, e.startTime, e.endTime, ids, e.summary);
    }
    for (const r of l.rejected) stmt.rejected.run(runId, r.lineNo, r.text, r.code, r.reason);
    for (const lineNo of l.dropped) stmt.dropEvent.run(runId, lineNo);
  }

  /** Writes a settled run's whole log as its one row; its batches are no longer needed for it. */
  private settle(run: PatchSource): void {
    if (run.storedSeq < run.lastSeq) {
      const frames: string[] = [];
      for (let seq = 1; seq <= run.lastSeq; seq++) frames.push(run.frameAt(seq)!);
      this.stmt.log.run(run.id, frames.join('\n'));
      run.storedSeq = run.lastSeq;
    }
    this.journalFloor.delete(run.id);
  }

  /** Drops the batches below the first frame of every run still running (all of theirs are settled). */
  private prune(): void {
    if (this.keepAll) return;
    let floor = Number.MAX_SAFE_INTEGER;
    for (const id of this.journalFloor.values()) floor = Math.min(floor, id);
    this.stmt.prune.run(floor);
  }
}
