import type { ExtractedEvent, RejectedLine, RunStatus, TokenUsage } from '@app/shared';
import type { DB } from './open-database.js';

/** Latest counters of a run; coalesced so a flush writes one UPDATE per run, not one per frame. */
export interface RunPatch {
  lastSeq: number;
  eventCount: number;
  rejectedCount: number;
  pieces: number;
  durationMs: number;
  status: RunStatus;
  usage: TokenUsage | null;
  errorCode: string | null;
  errorMessage: string | null;
  finished: boolean;
  /** The whole text, when finished. While a run streams its text lives in its frames, not the row. */
  text: string | null;
}

/** A run whose current counters the writer reads at flush time. */
export interface PatchSource {
  readonly id: string;
  snapshot(): RunPatch;
}

/**
 * Groups every write of every run into one transaction per tick: frames, text, events, counters.
 * Persistence then costs one commit per tick at any number of runs, not one per piece.
 */
export class FrameWriter {
  private frames: [string, number, string, string][] = [];
  private events: ExtractedEvent[] = [];
  private rejected: [string, RejectedLine][] = [];
  private runs = new Map<string, PatchSource>();
  private timer: NodeJS.Timeout | null = null;
  private readonly insertFrame;
  private readonly insertEvent;
  private readonly insertRejected;
  private readonly updateRun;
  private readonly writeAll;

  constructor(
    db: DB,
    private readonly flushMs: number,
  ) {
    this.insertFrame = db.prepare('INSERT INTO run_frames (run_id, seq, type, data) VALUES (?, ?, ?, ?)');
    this.insertEvent = db.prepare(
      `INSERT INTO events (run_id, user_id, line_no, event_type, start_time, end_time, source_ids, summary)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertRejected = db.prepare(
      'INSERT OR REPLACE INTO rejected_lines (run_id, line_no, text, code, reason) VALUES (?, ?, ?, ?, ?)',
    );
    this.updateRun = db.prepare(
      // Rewriting a growing text column per flush would dirty every run's overflow pages each tick.
      `UPDATE runs SET text = CASE WHEN @finished THEN @text ELSE text END, last_seq = @lastSeq, event_count = @eventCount,
         rejected_count = @rejectedCount, pieces = @pieces, duration_ms = @durationMs, status = @status,
         prompt_tokens = @promptTokens, completion_tokens = @completionTokens, usage_estimated = @estimated,
         error_code = @errorCode, error_message = @errorMessage, updated_at = @now,
         finished_at = CASE WHEN @finished THEN @now ELSE NULL END
       WHERE id = @id`,
    );
    this.writeAll = db.transaction(() => this.writePending());
  }

  frame(run: PatchSource, seq: number, type: string, json: string): void {
    this.frames.push([run.id, seq, type, json]);
    this.pending(run);
  }

  event(e: ExtractedEvent): void {
    this.events.push(e);
  }

  rejectedLine(runId: string, line: RejectedLine): void {
    this.rejected.push([runId, line]);
  }

  /** Marks the run's counters as changed; they are read when the batch is written. */
  touch(run: PatchSource): void {
    this.pending(run);
  }

  /** Writes everything pending now (used at run end, shutdown and by readers that need the log). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.frames.length === 0 && this.runs.size === 0 && this.events.length === 0) return;
    this.writeAll();
  }

  private pending(run: PatchSource): void {
    if (!this.runs.has(run.id)) {
      this.runs.set(run.id, run);
      this.schedule();
    }
  }

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  private writePending(): void {
    const frames = this.frames;
    const events = this.events;
    const rejected = this.rejected;
    const runs = this.runs;
    this.frames = [];
    this.events = [];
    this.rejected = [];
    this.runs = new Map();
    for (const f of frames) this.insertFrame.run(f);
    for (const e of events) {
      this.insertEvent.run(
        e.runId,
        e.userId,
        e.lineNo,
        e.eventType,
        e.startTime,
        e.endTime,
        JSON.stringify(e.sourceBehaviorIds),
        e.summary,
      );
    }
    for (const [runId, l] of rejected) this.insertRejected.run(runId, l.lineNo, l.text, l.code, l.reason);
    const now = new Date().toISOString();
    for (const [id, source] of runs) {
      const patch = source.snapshot();
      const u = patch.usage;
      const { lastSeq, eventCount, rejectedCount, pieces, durationMs, status, errorCode, errorMessage } =
        patch;
      this.updateRun.run({
        id,
        now,
        text: patch.text,
        lastSeq,
        eventCount,
        rejectedCount,
        pieces,
        durationMs,
        status,
        errorCode,
        errorMessage,
        finished: patch.finished ? 1 : 0,
        promptTokens: u?.promptTokens ?? null,
        completionTokens: u?.completionTokens ?? null,
        estimated: u ? (u.estimated ? 1 : 0) : null,
      });
    }
  }
}
