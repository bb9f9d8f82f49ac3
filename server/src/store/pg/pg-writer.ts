import type pg from 'pg';
import type { ExtractedEvent, RejectedLine, RunStatus } from '@app/shared';
import type { LogWriter, NewRunRow, PatchSource, RunPatch } from '../types.js';
import { checkout, pgErrorToApp } from './pg-errors.js';

/** Where the frames of running runs are committed: PostgreSQL's `frame_journal`, or a Redis stream per run. */
export interface Journal {
  /** Commits these frames (each run's in seq order); resolves once they survive a crash of this process. */
  append(frames: JournalEntry[]): Promise<void>;
  /** The runs settled (their whole log is in `run_logs` now): their journal may go. */
  release(runIds: string[]): Promise<void>;
}

export interface JournalEntry {
  runId: string;
  seq: number;
  json: string;
}

interface PendingLines {
  events: ExtractedEvent[];
  rejected: RejectedLine[];
  dropped: number[];
  replace: boolean;
}

/** What one write takes from the queues. */
interface Batch {
  newRuns: NewRunRow[];
  frames: JournalEntry[];
  committing: Set<PatchSource>;
  patches: { source: PatchSource; patch: RunPatch; log: string | null }[];
  lines: Map<string, PendingLines>;
}

/** Delay before a failed write is tried again (storage unreachable): frames wait, none is lost or sent early. */
const RETRY_MS = 250;

/**
 * The {@link LogWriter} of PostgreSQL mode (with or without Redis): one write per event-loop turn while one
 * is not under way — the frames to the journal, then run rows, counters, lines and settled logs in one
 * transaction — and only then are runs told (`committed()`). Writes run one at a time, in order; a failed
 * one (storage gone) is tried again with everything that queued meanwhile, so nothing is lost, repeated or
 * delivered before it is stored.
 */
export class PgWriter implements LogWriter {
  private newRuns: NewRunRow[] = [];
  private frames: JournalEntry[] = [];
  private committing = new Set<PatchSource>();
  private lines = new Map<string, PendingLines>();
  private dirty = new Map<string, PatchSource>();
  private readonly statusWritten = new Map<string, RunStatus>();
  private readonly patchedAt = new Map<string, number>();
  private writing: Promise<void> | null = null;
  private planned: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private plannedDue = 0;
  private forced = false;
  /** Runs whose settled row is stored, their journal to be let go once their last frames are committed. */
  private readonly releasing = new Set<string>();
  /** Runs whose settle is taken into a write not yet stored, and who waits for it. */
  private readonly inFlightSettles = new Set<string>();
  private readonly settleWaiters = new Map<string, (() => void)[]>();
  /** Writes failed in a row (storage unreachable). */
  private failures = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly journal: Journal,
    private readonly log: { warn(obj: object, msg: string): void },
    private readonly patchMs = 1000,
  ) {}

  createRun(row: NewRunRow): void {
    this.newRuns.push(row);
    this.statusWritten.set(row.id, 'running');
    this.patchedAt.set(row.id, performance.now());
    this.schedule();
  }

  queuedRunWithKey(key: string): NewRunRow | undefined {
    return this.newRuns.find((r) => r.startKey === key);
  }

  frame(run: PatchSource, json: string): void {
    this.frames.push({ runId: run.id, seq: run.lastSeq, json });
    this.committing.add(run);
    this.touch(run);
  }

  event(e: ExtractedEvent): void {
    this.linesOf(e.runId).events.push(e);
  }

  rejectedLine(runId: string, line: RejectedLine): void {
    this.linesOf(runId).rejected.push(line);
  }

  dropEvents(runId: string, lineNos: readonly number[]): void {
    this.linesOf(runId).dropped.push(...lineNos);
  }

  restoreLines(runId: string, events: ExtractedEvent[], rejected: RejectedLine[]): void {
    this.lines.set(runId, { events, rejected, dropped: [], replace: true });
    this.schedule();
  }

  touch(run: PatchSource): void {
    if (!this.dirty.has(run.id)) this.dirty.set(run.id, run);
    this.schedule();
  }

  recovered(): void {}

  async flush(): Promise<void> {
    // Whatever is under way first, then everything queued until now, counters included.
    for (let i = 0; i < 2 && (this.writing || this.hasPending()); i++) {
      if (this.writing) await this.writing.catch(() => {});
      this.forced = true;
      await this.write().catch(pgErrorToApp);
    }
  }

  private linesOf(runId: string): PendingLines {
    let l = this.lines.get(runId);
    if (!l) this.lines.set(runId, (l = { events: [], rejected: [], dropped: [], replace: false }));
    return l;
  }

  private hasPending(): boolean {
    return this.newRuns.length > 0 || this.frames.length > 0 || this.dirty.size > 0 || this.lines.size > 0;
  }

  /** Plans a write within `delayMs` (an earlier one already planned is kept); after the one under way. */
  private schedule(delayMs = 0): void {
    if (this.writing) return;
    const due = performance.now() + delayMs;
    if (this.planned && this.plannedDue <= due) return;
    this.cancelPlanned();
    this.plannedDue = due;
    const go = () => {
      this.planned = null;
      this.write().catch(() => {});
    };
    this.planned = delayMs <= 0 ? setImmediate(go) : setTimeout(go, delayMs);
  }

  private cancelPlanned(): void {
    if (!this.planned) return;
    if ('refresh' in this.planned) clearTimeout(this.planned);
    else clearImmediate(this.planned);
    this.planned = null;
  }

  /** One write: takes what is queued, stores it, tells the runs. Never two at once. */
  private write(): Promise<void> {
    if (this.writing) return this.writing;
    this.cancelPlanned();
    const batch = this.take(this.forced);
    this.forced = false;
    const p = this.store(batch)
      .then(() => {
        this.failures = 0;
      })
      .catch((err: unknown) => {
        // Put back what was not stored, in front of what queued meanwhile, and try again shortly.
        this.putBack(batch);
        if (this.failures++ % 20 === 0) this.log.warn({ err }, 'storage write failed; retrying');
        throw err;
      })
      .finally(() => {
        this.writing = null;
        if (this.hasPending()) this.schedule(this.failures > 0 ? RETRY_MS : this.nextDueIn());
      });
    this.writing = p;
    return p;
  }

  /** Counters of running runs are due once a second; frames and new runs every turn. */
  private nextDueIn(): number {
    if (this.newRuns.length > 0 || this.frames.length > 0) return 0;
    const now = performance.now();
    let due = Infinity;
    for (const [id, run] of this.dirty) {
      if (run.status !== 'running' || this.statusWritten.get(id) !== run.status) return 0;
      due = Math.min(due, (this.patchedAt.get(id) ?? 0) + this.patchMs - now);
    }
    return Math.max(0, Math.min(due, this.patchMs));
  }

  private take(force: boolean): Batch {
    const now = performance.now();
    const batch: Batch = {
      newRuns: this.newRuns,
      frames: this.frames,
      committing: this.committing,
      patches: [],
      lines: new Map(),
    };
    this.newRuns = [];
    this.frames = [];
    this.committing = new Set();
    for (const [id, run] of this.dirty) {
      const due =
        force ||
        run.status !== 'running' ||
        this.statusWritten.get(id) !== run.status ||
        now - (this.patchedAt.get(id) ?? -Infinity) >= this.patchMs;
      if (!due) continue;
      const patch = run.snapshot();
      let log: string | null = null;
      if (patch.finished && run.storedSeq < run.lastSeq) {
        const all: string[] = [];
        for (let seq = 1; seq <= run.lastSeq; seq++) all.push(run.frameAt(seq)!);
        log = all.join('\n');
        run.storedSeq = run.lastSeq;
      }
      batch.patches.push({ source: run, patch, log });
      if (patch.finished) this.inFlightSettles.add(id);
      this.dirty.delete(id);
      const lines = this.lines.get(id);
      if (lines) {
        batch.lines.set(id, lines);
        this.lines.delete(id);
      }
      if (patch.finished) {
        this.statusWritten.delete(id);
        this.patchedAt.delete(id);
      } else {
        this.statusWritten.set(id, patch.status);
        this.patchedAt.set(id, now);
      }
    }
    // Lines of runs with no counters due (restored ones, or the last ones of a quiet run) go when forced.
    if (force) {
      for (const [id, l] of this.lines) batch.lines.set(id, l);
      this.lines.clear();
    }
    return batch;
  }

  private putBack(b: Batch): void {
    this.newRuns = b.newRuns.concat(this.newRuns);
    this.frames = b.frames.concat(this.frames);
    for (const r of this.committing) b.committing.add(r);
    this.committing = b.committing;
    for (const { source, log } of b.patches) {
      // Written again in full next time: its log, and its row (a status never written counts as changed).
      if (log !== null) source.storedSeq = 0;
      if (!this.dirty.has(source.id)) this.dirty.set(source.id, source);
      this.statusWritten.delete(source.id);
    }
    for (const [id, l] of b.lines) {
      const later = this.lines.get(id);
      this.lines.set(
        id,
        later
          ? {
              events: l.events.concat(later.events),
              rejected: l.rejected.concat(later.rejected),
              dropped: l.dropped.concat(later.dropped),
              replace: l.replace || later.replace,
            }
          : l,
      );
    }
  }

  /**
   * New rows; then the frames of runs still running (committed: runs are told at once); then counters,
   * lines and settled logs in one transaction; then the last frames of the runs that settled, so a client
   * that has a terminal frame reads the final run from any instance. A part that is stored is taken off
   * the batch, so a retry writes only the rest: with Redis as the journal, running runs keep streaming
   * while PostgreSQL is away.
   */
  private async store(b: Batch): Promise<void> {
    // Rows first: a run whose frames are committed is always findable (takeover looks for rows).
    if (b.newRuns.length > 0) {
      await insertRuns(this.pool, b.newRuns);
      b.newRuns = [];
    }
    const settling = new Set(b.patches.filter((p) => p.patch.finished).map((p) => p.source.id));
    await this.commitFrames(b, (runId) => !settling.has(runId));
    if (b.patches.length > 0 || b.lines.size > 0) {
      await this.storeRecords(b);
      for (const id of settling) this.releasing.add(id);
    }
    await this.commitFrames(b, () => true);
    if (this.releasing.size > 0) {
      const ids = [...this.releasing];
      await this.journal.release(ids);
      this.releasing.clear();
      for (const id of ids) this.stored(id);
    }
  }

  /** Commits the batch's frames of the runs `which` picks and tells those runs. */
  private async commitFrames(b: Batch, which: (runId: string) => boolean): Promise<void> {
    const now = b.frames.filter((f) => which(f.runId));
    if (now.length === 0) return;
    await this.journal.append(now);
    b.frames = b.frames.filter((f) => !which(f.runId));
    for (const run of [...b.committing]) {
      if (!which(run.id)) continue;
      b.committing.delete(run);
      run.committed();
    }
  }

  private async storeRecords(b: Batch): Promise<void> {
    const { client, done } = await checkout(this.pool);
    let failed = false;
    try {
      await client.query('BEGIN');
      for (const [runId, l] of b.lines) await writeLines(client, runId, l);
      const settled: string[] = [];
      for (const { source, patch, log } of b.patches) {
        const id = source.id;
        if (log !== null) {
          await client.query(
            `INSERT INTO run_logs (run_id, frames) VALUES ($1, $2)
             ON CONFLICT (run_id) DO UPDATE SET frames = excluded.frames`,
            [id, log],
          );
        }
        if (patch.finished) settled.push(id);
        await updateRun(client, id, patch);
      }
      await client.query('COMMIT');
      b.patches = [];
      b.lines = new Map();
    } catch (err) {
      failed = true;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      done(failed);
    }
  }

  /** Resolves once the run's settled row and log are stored (retrying while storage is away). */
  settled(runId: string): Promise<void> {
    const pending = this.dirty.get(runId);
    if (!pending || pending.status === 'running') {
      if (!this.inFlightSettles.has(runId)) return Promise.resolve();
    }
    return new Promise((ok) => {
      const list = this.settleWaiters.get(runId) ?? [];
      list.push(ok);
      this.settleWaiters.set(runId, list);
    });
  }

  private stored(runId: string): void {
    this.inFlightSettles.delete(runId);
    const waiting = this.settleWaiters.get(runId);
    this.settleWaiters.delete(runId);
    for (const ok of waiting ?? []) ok();
  }
}

async function insertRuns(client: pg.Pool, rows: NewRunRow[]): Promise<void> {
  const iso = new Date().toISOString();
  await client.query(
    `INSERT INTO runs (id, user_id, model, status, created_at, updated_at, behaviour_ids,
       truncated_included, truncated_total, start_key)
     SELECT r.id, r.user_id, r.model, 'running', $2, $2, r.behaviour_ids, r.included, r.total, r.start_key
     FROM json_to_recordset($1::json) AS r(id text, user_id text, model text, behaviour_ids text,
       included int, total int, start_key text, ord int)
     ORDER BY r.ord
     ON CONFLICT (id) DO NOTHING`,
    [
      JSON.stringify(
        rows.map((r, ord) => ({
          id: r.id,
          user_id: r.userId,
          model: r.model,
          behaviour_ids: JSON.stringify(r.behaviourIds),
          included: r.truncated?.included ?? null,
          total: r.truncated?.total ?? null,
          start_key: r.startKey ?? null,
          ord,
        })),
      ),
      iso,
    ],
  );
}

async function writeLines(client: pg.PoolClient, runId: string, l: PendingLines): Promise<void> {
  if (l.replace) {
    await client.query('DELETE FROM events WHERE run_id = $1', [runId]);
    await client.query('DELETE FROM rejected_lines WHERE run_id = $1', [runId]);
  }
  if (l.events.length > 0) {
    await client.query(
      `INSERT INTO events (run_id, user_id, line_no, event_type, start_time, end_time, source_ids, summary)
       SELECT run_id, user_id, line_no, event_type, start_time, end_time, source_ids, summary
       FROM json_to_recordset($1::json) AS e(run_id text, user_id text, line_no int, event_type text,
         start_time text, end_time text, source_ids text, summary text)`,
      [
        JSON.stringify(
          l.events.map((e) => ({
            run_id: e.runId,
            user_id: e.userId,
            line_no: e.lineNo,
            event_type: e.eventType,
            start_time: e.startTime,
            end_time: e.endTime,
            source_ids: JSON.stringify(e.sourceBehaviorIds),
            summary: e.summary,
          })),
        ),
      ],
    );
  }
  if (l.rejected.length > 0) {
    await client.query(
      `INSERT INTO rejected_lines (run_id, line_no, text, code, reason)
       SELECT $1, line_no, text, code, reason
       FROM json_to_recordset($2::json) AS r(line_no int, text text, code text, reason text)
       ON CONFLICT (run_id, line_no) DO UPDATE SET text = excluded.text, code = excluded.code,
         reason = excluded.reason`,
      [
        runId,
        JSON.stringify(
          l.rejected.map((r) => ({ line_no: r.lineNo, text: r.text, code: r.code, reason: r.reason })),
        ),
      ],
    );
  }
  if (l.dropped.length > 0) {
    await client.query('DELETE FROM events WHERE run_id = $1 AND line_no = ANY($2::int[])', [
      runId,
      l.dropped,
    ]);
  }
}

async function updateRun(client: pg.PoolClient, id: string, p: RunPatch): Promise<void> {
  const iso = new Date().toISOString();
  const u = p.usage;
  await client.query(
    `UPDATE runs SET text = CASE WHEN $2 THEN $3 ELSE text END, last_seq = $4, event_count = $5,
       rejected_count = $6, pieces = $7, duration_ms = $8, status = $9, prompt_tokens = $10,
       completion_tokens = $11, usage_estimated = $12, error_code = $13, error_message = $14,
       updated_at = $15, resume_on_start = $16, finished_at = CASE WHEN $2 THEN $15 ELSE NULL END
     WHERE id = $1`,
    [
      id,
      p.finished,
      p.text ?? '',
      p.lastSeq,
      p.eventCount,
      p.rejectedCount,
      p.pieces,
      Math.round(p.durationMs),
      p.status,
      u?.promptTokens ?? null,
      u?.completionTokens ?? null,
      u ? (u.estimated ? 1 : 0) : null,
      p.errorCode,
      p.errorMessage,
      iso,
      p.resumeOnStart ? 1 : 0,
    ],
  );
}
