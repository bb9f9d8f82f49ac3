import type {
  ExtractedEvent,
  RejectedLine,
  RejectCode,
  RunDetail,
  RunStatus,
  RunSummary,
  TokenUsage,
} from '@app/shared';
import { chunkContent, FrameCodec, isChunk, readLog } from '../runs/frame-codec.js';
import type { RunsStore, StoredRunState } from '../store/types.js';
import type { DB } from './open-database.js';

export type { StoredRunState } from '../store/types.js';

interface RunRow {
  id: string;
  user_id: string;
  model: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  text: string;
  last_seq: number;
  event_count: number;
  rejected_count: number;
  pieces: number;
  duration_ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  usage_estimated: number | null;
  error_code: string | null;
  behaviour_ids: string;
  truncated_included: number | null;
  truncated_total: number | null;
}

interface EventRow {
  run_id: string;
  user_id: string;
  line_no: number;
  event_type: string;
  start_time: string;
  end_time: string;
  source_ids: string;
  summary: string;
}

const SUMMARY_COLS = `id, user_id, model, status, created_at, updated_at, finished_at, last_seq, event_count,
  rejected_count, pieces, duration_ms, prompt_tokens, completion_tokens, usage_estimated, error_code,
  behaviour_ids, truncated_included, truncated_total`;

export const usageOf = (
  r: Pick<RunRow, 'prompt_tokens' | 'completion_tokens' | 'usage_estimated'>,
): TokenUsage | null =>
  r.prompt_tokens === null || r.completion_tokens === null
    ? null
    : {
        promptTokens: r.prompt_tokens,
        completionTokens: r.completion_tokens,
        totalTokens: r.prompt_tokens + r.completion_tokens,
        estimated: r.usage_estimated === 1,
      };

export const toSummary = (r: Omit<RunRow, 'text'>): RunSummary => ({
  id: r.id,
  userId: r.user_id,
  model: r.model,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
  usage: usageOf(r),
  eventCount: r.event_count,
  rejectedCount: r.rejected_count,
  lastSeq: r.last_seq,
  errorCode: r.error_code,
  truncated:
    r.truncated_included === null || r.truncated_total === null
      ? null
      : { included: r.truncated_included, total: r.truncated_total },
});

export const toEvent = (r: EventRow): ExtractedEvent => ({
  runId: r.run_id,
  userId: r.user_id,
  eventType: r.event_type,
  startTime: r.start_time,
  endTime: r.end_time,
  sourceBehaviorIds: JSON.parse(r.source_ids) as string[],
  summary: r.summary,
  lineNo: r.line_no,
});

/** Reads of runs, their frame logs and their events. Writes go through FrameWriter. */
export class RunsRepo implements RunsStore {
  private readonly logStmt;
  private readonly batchesStmt;
  private readonly summaryStmt;
  private readonly rowStmt;
  private readonly keyStmt;

  constructor(private readonly db: DB) {
    this.logStmt = db.prepare<[string], { frames: string }>('SELECT frames FROM run_logs WHERE run_id = ?');
    // Only runs streaming now, or that died streaming, have frames here, and settled batches are pruned.
    this.batchesStmt = db.prepare<[], { frames: string }>('SELECT frames FROM frame_batches ORDER BY id');
    this.rowStmt = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?');
    this.keyStmt = db.prepare<[string], { id: string; userId: string }>(
      'SELECT id, user_id AS userId FROM runs WHERE start_key = ?',
    );
    this.summaryStmt = db.prepare<[string], Omit<RunRow, 'text'>>(
      `SELECT ${SUMMARY_COLS} FROM runs WHERE id = ?`,
    );
  }

  async summary(id: string): Promise<RunSummary | null> {
    const r = this.summaryStmt.get(id);
    return r ? toSummary(r) : null;
  }

  /** Runs a clean stop cancelled, to be continued at this start. */
  async cancelledByShutdown(): Promise<string[]> {
    return (
      this.db.prepare('SELECT id FROM runs WHERE resume_on_start = 1 ORDER BY created_at').all() as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  async runningIds(): Promise<string[]> {
    return (
      this.db.prepare("SELECT id FROM runs WHERE status = 'running' ORDER BY created_at").all() as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  /** The run a start key began, if any. */
  async byStartKey(key: string): Promise<{ id: string; userId: string } | null> {
    return this.keyStmt.get(key) ?? null;
  }

  /** The row's text is written when a run settles; while it runs (or if it died running) its frames hold it. */
  private textOf(r: RunRow): string {
    if (r.status !== 'running') return r.text;
    return this.readFrames(r.id, 0).filter(isChunk).map(chunkContent).join('');
  }

  /**
   * A run as stored. For a row still marked running (the server stopped without settling it) the
   * counters are rebuilt from its frames, events and rejected lines, which are written every tick.
   */
  async stored(id: string): Promise<StoredRunState | null> {
    const r = this.rowStmt.get(id);
    if (!r) return null;
    const settled = this.settledFrames(id);
    // Only a row still marked running can have frames beyond its log (the writer keeps that true).
    const frames =
      r.status === 'running' ? settled.concat(this.journaledFrames(id, settled.length)) : settled;
    const state: StoredRunState = {
      summary: { ...toSummary(r), lastSeq: frames.length },
      text: r.text,
      behaviourIds: JSON.parse(r.behaviour_ids) as string[],
      pieces: r.pieces,
      durationMs: r.duration_ms,
      frames,
      storedSeq: settled.length,
    };
    if (r.status === 'running') {
      // Lines are written once a second, frames every tick: the frames are the record.
      const log = readLog(frames);
      state.text = log.text;
      state.pieces = log.pieces;
      state.summary.eventCount = log.events.length;
      state.summary.rejectedCount = log.rejected.length;
      state.lines = { events: log.events, rejected: log.rejected };
    }
    return state;
  }

  /** `liveText`: the text of a run streaming now, so its frames need not be read back. */
  async detail(id: string, liveText?: string): Promise<RunDetail | null> {
    const r = this.rowStmt.get(id);
    if (!r) return null;
    return {
      ...toSummary(r),
      text: liveText ?? this.textOf(r),
      events: await this.eventsOfRun(id),
      rejected: await this.rejectedOfRun(id),
    };
  }

  async list(opts: {
    userId?: string;
    status?: RunStatus;
    limit: number;
    offset: number;
  }): Promise<{ items: RunSummary[]; total: number }> {
    const conds: string[] = [];
    if (opts.userId) conds.push('user_id = @userId');
    if (opts.status) conds.push('status = @status');
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT count(*) AS n FROM runs ${where}`).get(opts) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT ${SUMMARY_COLS} FROM runs ${where} ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset`,
      )
      .all(opts) as Omit<RunRow, 'text'>[];
    return { items: rows.map(toSummary), total };
  }

  /** JSON of each stored frame with seq > after, in order: the settled log, then journaled ones. */
  async framesAfter(runId: string, after: number): Promise<string[]> {
    return this.readFrames(runId, after);
  }

  private readFrames(runId: string, after: number): string[] {
    const settled = this.settledFrames(runId);
    const journaled = this.journaledFrames(runId, Math.max(after, settled.length));
    return settled.slice(after).concat(journaled);
  }

  /** The log written when the run last settled. */
  private settledFrames(runId: string): string[] {
    const row = this.logStmt.get(runId);
    return row ? row.frames.split('\n') : [];
  }

  /** Frames of the run in the journal with seq > after (every frame leads with its run id and seq). */
  private journaledFrames(runId: string, after: number): string[] {
    const codec = new FrameCodec(runId);
    const out: string[] = [];
    for (const b of this.batchesStmt.all()) {
      for (const json of b.frames.split('\n')) {
        const seq = codec.seqOf(json);
        if (seq !== null && seq > after && seq === after + out.length + 1) out.push(json);
      }
    }
    return out;
  }

  async eventsOfRun(runId: string): Promise<ExtractedEvent[]> {
    return (
      this.db.prepare('SELECT * FROM events WHERE run_id = ? ORDER BY line_no').all(runId) as EventRow[]
    ).map(toEvent);
  }

  async rejectedOfRun(runId: string): Promise<RejectedLine[]> {
    return (
      this.db
        .prepare('SELECT line_no, text, code, reason FROM rejected_lines WHERE run_id = ? ORDER BY line_no')
        .all(runId) as { line_no: number; text: string; code: RejectCode; reason: string }[]
    ).map((r) => ({ lineNo: r.line_no, text: r.text, code: r.code, reason: r.reason }));
  }

  /**
   * Current events: those of each user's latest run that produced any (or of one run).
   * Read in one go: iterating while awaiting would hold the connection busy and block the writer.
   */
  async events(opts: { userId?: string; runId?: string }): Promise<ExtractedEvent[]> {
    const sql = opts.runId
      ? 'SELECT * FROM events WHERE run_id = @runId ORDER BY line_no'
      : `SELECT e.* FROM events e
         WHERE e.run_id = (SELECT r.id FROM runs r WHERE r.user_id = e.user_id AND r.event_count > 0
                           ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1)
         ${opts.userId ? 'AND e.user_id = @userId' : ''}
         ORDER BY e.user_id, e.start_time, e.line_no`;
    return (this.db.prepare(sql).all(opts) as EventRow[]).map(toEvent);
  }
}
