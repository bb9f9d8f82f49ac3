import type pg from 'pg';
import type { ExtractedEvent, RejectedLine, RunStatus } from '@app/shared';
import type { LogWriter, NewRunRow, PatchSource, RunPatch } from '../types.js';
import { pgErrorToApp } from './pg-errors.js';

/** Where the frames of running runs are committed: PostgreSQL's `frame_journal`, or a Redis stream per run. */
export interface Journal {
  /**
   * Makes these runs' journals exist before their rows say they run (new rows, or runs going on again), so
   * that a running run with no journal is one whose frames were lost, not one that had none yet.
   */
  open(runIds: string[]): Promise<void>;
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

/** A frame waiting for its lane, with the run to tell once it is committed. */
interface Queued extends JournalEntry {
  run: PatchSource;
}

/** What one records write takes from the queues. */
interface Batch {
  patches: { source: PatchSource; patch: RunPatch; log: string | null }[];
  lines: Map<string, PendingLines>;
  /** Runs whose row goes back to running here (resumed, or taken over): their journal is opened first. */
  reopened: string[];
}

/** Delay before a failed write is tried again (storage unreachable): frames wait, none is lost or sent early. */
const RETRY_MS = 250;

/**
 * The {@link LogWriter} of PostgreSQL mode (with or without Redis), in two lanes that never wait for each
 * other on the hot path:
 * - frames: new run rows, then the frames of running runs to the journal, every turn; only then are runs
 *   told (`committed(seq)`), so a watcher never has a frame a crash could take back;
 * - records: counters, lines and settled logs in one transaction (about once a second per run); a run
 *   that settles has its last frames committed after that transaction, so a client that has a terminal
 *   frame reads the final run from any instance.
 * A run's frames go to the journal in seq order whichever lane takes them: a run is held (its frames
 * wait) while its row is not inserted or its settle is not stored. Each lane writes one batch at a time;
 * a failed one (storage gone) is tried again with what queued meanwhile: nothing lost, repeated or
 * delivered before it is stored.
 */
export class PgWriter implements LogWriter {
  private newRuns: NewRunRow[] = [];
  /** New rows being inserted now: not queued any more, not readable yet. */
  private inserting: NewRunRow[] = [];
  private frames: Queued[] = [];
  private lines = new Map<string, PendingLines>();
  private dirty = new Map<string, PatchSource>();
  private readonly statusWritten = new Map<string, RunStatus>();
  private readonly patchedAt = new Map<string, number>();
  /** Runs whose row is not inserted yet: no frame, counter or line of theirs is written before it. */
  private readonly rowPending = new Set<string>();
  /** Runs whose settle was taken into a records write: seq of their last frame in it, until it is committed. */
  private readonly settling = new Map<string, number>();
  /** Runs whose settled records are stored, their last frames not yet committed or journal not released. */
  private readonly settledRecords = new Set<string>();
  private readonly settleWaiters = new Map<string, (() => void)[]>();
  private readonly frameLane: Lane;
  private readonly recordLane: Lane;
  private forced = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly journal: Journal,
    private readonly log: { warn(obj: object, msg: string): void },
    private readonly patchMs = 1000,
  ) {
    this.frameLane = new Lane(() => this.writeFrames(), log, 'frames');
    this.recordLane = new Lane(() => this.writeRecords(), log, 'records');
  }

  createRun(row: NewRunRow): void {
    this.newRuns.push(row);
    this.rowPending.add(row.id);
    this.statusWritten.set(row.id, 'running');
    this.patchedAt.set(row.id, performance.now());
    this.frameLane.schedule(0);
  }

  queuedRunWithKey(key: string): NewRunRow | undefined {
    return this.newRuns.find((r) => r.startKey === key) ?? this.inserting.find((r) => r.startKey === key);
  }

  frame(run: PatchSource, json: string): void {
    this.frames.push({ runId: run.id, seq: run.lastSeq, json, run });
    this.frameLane.schedule(0);
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
    this.recordLane.schedule(0);
  }

  touch(run: PatchSource): void {
    if (!this.dirty.has(run.id)) this.dirty.set(run.id, run);
    // A changed status is due now; a running run's counters once a second, which a planned write covers.
    if (run.status !== 'running' || this.statusWritten.get(run.id) !== run.status)
      this.recordLane.schedule(0);
    else if (!this.recordLane.pending) this.recordLane.schedule(this.recordsDueIn());
  }

  recovered(): void {}

  async flush(): Promise<void> {
    // Whatever is under way, then everything queued until now, counters included; a records write may
    // wait for a row insert and a settle's frames for a records write, hence a few rounds.
    for (let i = 0; i < 4 && (this.frameLane.busy || this.recordLane.busy || this.hasPending()); i++) {
      await Promise.all([this.frameLane.idle(), this.recordLane.idle()]);
      this.forced = true;
      const [f, r] = await Promise.allSettled([this.frameLane.run(), this.recordLane.run()]);
      for (const o of [f, r]) if (o.status === 'rejected') pgErrorToApp(o.reason);
    }
  }

  private linesOf(runId: string): PendingLines {
    let l = this.lines.get(runId);
    if (!l) this.lines.set(runId, (l = { events: [], rejected: [], dropped: [], replace: false }));
    return l;
  }

  private hasPending(): boolean {
    return (
      this.newRuns.length > 0 ||
      this.frames.length > 0 ||
      this.dirty.size > 0 ||
      this.lines.size > 0 ||
      this.settledRecords.size > 0
    );
  }

  /** A frame the frames lane may commit now: its run's row is there and it is not settling. */
  private free(f: Queued): boolean {
    return f.run.status === 'running' && !this.rowPending.has(f.runId) && !this.settling.has(f.runId);
  }

  // ---- frames lane ----

  private async writeFrames(): Promise<number | null> {
    if (this.newRuns.length > 0) {
      const rows = (this.inserting = this.newRuns);
      this.newRuns = [];
      try {
        await this.journal.open(rows.map((r) => r.id));
        await insertRuns(this.pool, rows);
      } catch (err) {
        this.newRuns = rows.concat(this.newRuns);
        throw err;
      } finally {
        this.inserting = [];
      }
      for (const r of rows) this.rowPending.delete(r.id);
      // Their counters and lines may go now.
      this.recordLane.schedule(0);
    }
    const take: Queued[] = [];
    const keep: Queued[] = [];
    for (const f of this.frames) (this.free(f) ? take : keep).push(f);
    if (take.length > 0) {
      this.frames = keep;
      await this.commit(take);
    }
    return this.newRuns.length > 0 || this.frames.some((f) => this.free(f)) ? 0 : null;
  }

  /** Appends frames to the journal and tells their runs how far they are committed; put back on failure. */
  private async commit(frames: Queued[]): Promise<void> {
    try {
      await this.journal.append(frames);
    } catch (err) {
      // In front of what queued meanwhile: each run's frames stay in seq order.
      this.frames = frames.concat(this.frames);
      throw err;
    }
    const upTo = new Map<PatchSource, number>();
    for (const f of frames) upTo.set(f.run, f.seq);
    for (const [run, seq] of upTo) run.committed(seq);
  }

  // ---- records lane ----

  private async writeRecords(): Promise<number | null> {
    const b = this.take(this.forced);
    this.forced = false;
    try {
      if (b.reopened.length > 0) await this.journal.open(b.reopened);
      if (b.patches.length > 0 || b.lines.size > 0) await this.storeRecords(b);
    } catch (err) {
      this.putBack(b);
      throw err;
    }
    for (const { source, patch } of b.patches) if (patch.finished) this.settledRecords.add(source.id);
    if (this.settledRecords.size > 0) await this.finishSettles();
    return this.hasPending() ? this.recordsDueIn() : null;
  }

  /**
   * The last frames of runs whose settle is stored (after any frames of theirs the other lane is
   * committing), then their journal is let go; then their frames lane opens again (a resumed run).
   */
  private async finishSettles(): Promise<void> {
    await this.frameLane.idle();
    const ids = [...this.settledRecords];
    const take: Queued[] = [];
    const keep: Queued[] = [];
    for (const f of this.frames) {
      const last = this.settledRecords.has(f.runId) ? this.settling.get(f.runId) : undefined;
      (last !== undefined && f.seq <= last ? take : keep).push(f);
    }
    this.frames = keep;
    if (take.length > 0) await this.commit(take);
    await this.journal.release(ids);
    for (const id of ids) {
      this.settledRecords.delete(id);
      this.settling.delete(id);
      const waiting = this.settleWaiters.get(id);
      this.settleWaiters.delete(id);
      for (const ok of waiting ?? []) ok();
    }
    this.frameLane.schedule(0);
  }

  /** Counters of running runs are due once a second; a changed status, lines on a flush, at once. */
  private recordsDueIn(): number {
    if (this.settledRecords.size > 0) return 0;
    const now = performance.now();
    let due = Infinity;
    for (const [id, run] of this.dirty) {
      if (this.rowPending.has(id)) continue;
      if (run.status !== 'running' || this.statusWritten.get(id) !== run.status) return 0;
      due = Math.min(due, (this.patchedAt.get(id) ?? 0) + this.patchMs - now);
    }
    if (due === Infinity && this.lines.size > 0) due = this.patchMs;
    return Math.max(0, Math.min(due, this.patchMs));
  }

  private take(force: boolean): Batch {
    const now = performance.now();
    const batch: Batch = { patches: [], lines: new Map(), reopened: [] };
    for (const [id, run] of this.dirty) {
      if (this.rowPending.has(id)) continue;
      // One settle of a run at a time: a resumed run that settles again waits for the first one's frames.
      if (this.settling.has(id)) continue;
      const due =
        force ||
        run.status !== 'running' ||
        this.statusWritten.get(id) !== run.status ||
        now - (this.patchedAt.get(id) ?? -Infinity) >= this.patchMs;
      if (!due) continue;
      const patch = run.snapshot();
      if (patch.status === 'running' && this.statusWritten.get(id) !== 'running') batch.reopened.push(id);
      let log: string | null = null;
      if (patch.finished && run.storedSeq < run.lastSeq) {
        const all: string[] = [];
        for (let seq = 1; seq <= run.lastSeq; seq++) all.push(run.frameAt(seq)!);
        log = all.join('\n');
        run.storedSeq = run.lastSeq;
      }
      batch.patches.push({ source: run, patch, log });
      // From here its frames wait for this write: the terminal frame is committed after the settled row.
      if (patch.finished) this.settling.set(id, patch.lastSeq);
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
      for (const [id, l] of this.lines) {
        if (this.rowPending.has(id)) continue;
        batch.lines.set(id, l);
        this.lines.delete(id);
      }
    }
    return batch;
  }

  private putBack(b: Batch): void {
    for (const { source, patch, log } of b.patches) {
      // Written again in full next time: its log, and its row (a status never written counts as changed).
      if (log !== null) source.storedSeq = 0;
      if (patch.finished) this.settling.delete(source.id);
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

  /** One statement, however many runs: `store_run_records` (a migration) takes every run's rows at once. */
  private async storeRecords(b: Batch): Promise<void> {
    await this.pool
      .query('SELECT store_run_records($1, $2, $3, $4, $5, $6, $7)', recordsArgs(b))
      .catch(pgErrorToApp);
  }

  /** Resolves once the run's settled row and log are stored (retrying while storage is away). */
  settled(runId: string): Promise<void> {
    const pending = this.dirty.get(runId);
    if ((!pending || pending.status === 'running') && !this.settling.has(runId)) return Promise.resolve();
    return new Promise((ok) => {
      const list = this.settleWaiters.get(runId) ?? [];
      list.push(ok);
      this.settleWaiters.set(runId, list);
    });
  }
}

/**
 * Runs one write at a time, planned within a delay (an earlier plan is kept); a failed one is tried again
 * after {@link RETRY_MS}. `write` answers when it wants to run again (ms), or null when nothing is left.
 */
class Lane {
  private writing: Promise<void> | null = null;
  private planned: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private plannedDue = 0;
  /** Writes failed in a row (storage unreachable). */
  private failures = 0;

  constructor(
    private readonly write: () => Promise<number | null>,
    private readonly log: { warn(obj: object, msg: string): void },
    private readonly name: string,
  ) {}

  get busy(): boolean {
    return this.writing !== null;
  }

  /** A write is under way or planned: it plans the next one itself when it ends. */
  get pending(): boolean {
    return this.writing !== null || this.planned !== null;
  }

  /** Resolves when no write is under way (whatever its outcome). */
  async idle(): Promise<void> {
    while (this.writing) await this.writing.catch(() => {});
  }

  schedule(delayMs: number): void {
    if (this.writing) return;
    const due = performance.now() + delayMs;
    if (this.planned && this.plannedDue <= due) return;
    this.cancelPlanned();
    this.plannedDue = due;
    const go = () => {
      this.planned = null;
      this.run().catch(() => {});
    };
    this.planned = delayMs <= 0 ? setImmediate(go) : setTimeout(go, delayMs);
  }

  /** A write now (after the one under way); rejects when it fails. */
  run(): Promise<void> {
    if (this.writing) return this.writing.catch(() => {}).then(() => this.run());
    this.cancelPlanned();
    let again: number | null = null;
    const p = this.write()
      .then((next) => {
        this.failures = 0;
        again = next;
      })
      .catch((err: unknown) => {
        if (this.failures++ % 20 === 0)
          this.log.warn({ err }, `storage write failed (${this.name}); retrying`);
        again = RETRY_MS;
        throw err;
      })
      .finally(() => {
        this.writing = null;
        if (again !== null) this.schedule(again);
      });
    this.writing = p;
    return p;
  }

  private cancelPlanned(): void {
    if (!this.planned) return;
    if ('refresh' in this.planned) clearTimeout(this.planned);
    else clearImmediate(this.planned);
    this.planned = null;
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

/** The arguments of `store_run_records`: each run's lines, settled log and row, as JSON arrays. */
function recordsArgs(b: Batch): unknown[] {
  const replaced: string[] = [];
  const events: object[] = [];
  const rejected: object[] = [];
  const dropped: { run_id: string; line_no: number }[] = [];
  for (const [runId, l] of b.lines) {
    if (l.replace) replaced.push(runId);
    for (const e of l.events) {
      events.push({
        run_id: e.runId,
        user_id: e.userId,
        line_no: e.lineNo,
        event_type: e.eventType,
        start_time: e.startTime,
        end_time: e.endTime,
        source_ids: JSON.stringify(e.sourceBehaviorIds),
        summary: e.summary,
      });
    }
    for (const r of l.rejected)
      rejected.push({ run_id: runId, line_no: r.lineNo, text: r.text, code: r.code, reason: r.reason });
    for (const n of l.dropped) dropped.push({ run_id: runId, line_no: n });
  }
  const logs = b.patches.filter((p) => p.log !== null).map((p) => ({ run_id: p.source.id, frames: p.log }));
  const runs = b.patches.map(({ source, patch: p }) => ({
    id: source.id,
    finished: p.finished,
    text: p.text ?? '',
    last_seq: p.lastSeq,
    event_count: p.eventCount,
    rejected_count: p.rejectedCount,
    pieces: p.pieces,
    duration_ms: Math.round(p.durationMs),
    status: p.status,
    prompt_tokens: p.usage?.promptTokens ?? null,
    completion_tokens: p.usage?.completionTokens ?? null,
    usage_estimated: p.usage ? (p.usage.estimated ? 1 : 0) : null,
    error_code: p.errorCode,
    error_message: p.errorMessage,
    resume_on_start: p.resumeOnStart ? 1 : 0,
  }));
  const json = JSON.stringify;
  return [
    replaced,
    json(events),
    json(rejected),
    json(dropped),
    json(logs),
    json(runs),
    new Date().toISOString(),
  ];
}
