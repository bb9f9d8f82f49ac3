import type pg from 'pg';
import type { ExtractedEvent, RejectedLine, RejectCode, RunDetail, RunStatus, RunSummary } from '@app/shared';
import { toEvent, toSummary } from '../../db/runs-repo.js';
import { chunkContent, isChunk, readLog } from '../../runs/frame-codec.js';
import type { JournalReader, RunsStore, StoredRunState } from '../types.js';
import { pgErrorToApp } from './pg-errors.js';

type SummaryRow = Parameters<typeof toSummary>[0];
type EventRow = Parameters<typeof toEvent>[0];

const SUMMARY_COLS = `id, user_id, model, status, created_at, updated_at, finished_at, last_seq, event_count,
  rejected_count, pieces, duration_ms, prompt_tokens, completion_tokens, usage_estimated, error_code,
  behaviour_ids, truncated_included, truncated_total`;
const EVENT_FIELDS = [
  'run_id',
  'user_id',
  'line_no',
  'event_type',
  'start_time',
  'end_time',
  'source_ids',
  'summary',
];
const eventCols = (table = '') => EVENT_FIELDS.map((c) => table + c).join(', ');

/** A run's row (the columns asked for) with its settled log, and the journal's frames beyond that log. */
interface Loaded<R> {
  row: R & { id: string; status: RunStatus };
  settled: string[];
  journaled: string[];
}

/**
 * Reads of runs, their frame logs and their events in PostgreSQL; answers as `RunsRepo` does for the same
 * rows. A settled run's frames are its row of `run_logs`; a run still running has more in the journal
 * (`frame_journal` or Redis), read through `journal`.
 */
export class PgRunsStore implements RunsStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly journal: JournalReader,
  ) {}

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params).catch(pgErrorToApp)).rows;
  }

  async summary(id: string): Promise<RunSummary | null> {
    const [r] = await this.query<SummaryRow>(`SELECT ${SUMMARY_COLS} FROM runs WHERE id = $1`, [id]);
    return r ? toSummary(r) : null;
  }

  async cancelledByShutdown(): Promise<string[]> {
    const rows = await this.query<{ id: string }>(
      'SELECT id FROM runs WHERE resume_on_start = 1 ORDER BY created_at',
    );
    return rows.map((r) => r.id);
  }

  async runningIds(): Promise<string[]> {
    const rows = await this.query<{ id: string }>(
      "SELECT id FROM runs WHERE status = 'running' ORDER BY created_at",
    );
    return rows.map((r) => r.id);
  }

  async byStartKey(key: string): Promise<{ id: string; userId: string } | null> {
    const [r] = await this.query<{ id: string; userId: string }>(
      'SELECT id, user_id AS "userId" FROM runs WHERE start_key = $1',
      [key],
    );
    return r ?? null;
  }

  /** For a row still marked running, counters and lines are rebuilt from its frames, as `RunsRepo` does. */
  async stored(id: string): Promise<StoredRunState | null> {
    const loaded = await this.load<SummaryRow & { text: string; pieces: number; duration_ms: number }>(
      id,
      `${SUMMARY_COLS}, text`,
      0,
    );
    if (!loaded) return null;
    const { row: r, settled, journaled } = loaded;
    const frames = settled.concat(journaled);
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
      const log = readLog(frames);
      state.text = log.text;
      state.pieces = log.pieces;
      state.summary.eventCount = log.events.length;
      state.summary.rejectedCount = log.rejected.length;
      state.lines = { events: log.events, rejected: log.rejected };
    }
    return state;
  }

  /** `liveText`: the text of a run streaming here now, so its frames need not be read back. */
  async detail(id: string, liveText?: string): Promise<RunDetail | null> {
    const [r] = await this.query<SummaryRow & { text: string }>(
      `SELECT ${SUMMARY_COLS}, text FROM runs WHERE id = $1`,
      [id],
    );
    if (!r) return null;
    const [text, events, rejected] = await Promise.all([
      // The row's text is written when a run settles; while it runs its frames hold it.
      liveText ?? (r.status === 'running' ? this.textFromFrames(id) : r.text),
      this.eventsOfRun(id),
      this.rejectedOfRun(id),
    ]);
    return { ...toSummary(r), text, events, rejected };
  }

  async list(opts: {
    userId?: string;
    status?: RunStatus;
    limit: number;
    offset: number;
  }): Promise<{ items: RunSummary[]; total: number }> {
    const conds: string[] = [];
    const params: unknown[] = [];
    if (opts.userId) conds.push(`user_id = $${params.push(opts.userId)}`);
    if (opts.status) conds.push(`status = $${params.push(opts.status)}`);
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const [counted, rows] = await Promise.all([
      this.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs ${where}`, params),
      this.query<SummaryRow>(
        `SELECT ${SUMMARY_COLS} FROM runs ${where} ORDER BY created_at DESC, n DESC
         LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, opts.limit, opts.offset],
      ),
    ]);
    return { items: rows.map(toSummary), total: counted[0]!.n };
  }

  /** JSON of each stored frame with seq > after, in order: the settled log, then journaled ones. */
  async framesAfter(runId: string, after: number): Promise<string[]> {
    const loaded = await this.load(runId, 'id, status', after);
    return loaded ? loaded.settled.slice(after).concat(loaded.journaled) : [];
  }

  private async textFromFrames(runId: string): Promise<string> {
    return (await this.framesAfter(runId, 0)).filter(isChunk).map(chunkContent).join('');
  }

  /**
   * The row (`cols`, which include id and status) and its settled log in one read; for a row still
   * running, the journal's frames beyond that log and `after`.
   */
  private async load<R>(id: string, cols: string, after: number, again = true): Promise<Loaded<R> | null> {
    const [row] = await this.query<Loaded<R>['row'] & { settled_log: string | null }>(
      `SELECT ${cols}, l.frames AS settled_log FROM runs r LEFT JOIN run_logs l ON l.run_id = r.id
       WHERE r.id = $1`,
      [id],
    );
    if (!row) return null;
    const settled = row.settled_log === null ? [] : row.settled_log.split('\n');
    if (row.status !== 'running') return { row, settled, journaled: [] };
    const journaled = await this.journal.framesAfter(id, Math.max(after, settled.length));
    // An empty journal may mean the run settled since its row was read (its journal goes then): its
    // log now holds every frame, so read it again, once.
    if (journaled.length === 0 && again) return this.load(id, cols, after, false);
    return { row, settled, journaled };
  }

  async eventsOfRun(runId: string): Promise<ExtractedEvent[]> {
    const rows = await this.query<EventRow>(
      `SELECT ${eventCols()} FROM events WHERE run_id = $1 ORDER BY line_no`,
      [runId],
    );
    return rows.map(toEvent);
  }

  async rejectedOfRun(runId: string): Promise<RejectedLine[]> {
    const rows = await this.query<{ line_no: number; text: string; code: RejectCode; reason: string }>(
      'SELECT line_no, text, code, reason FROM rejected_lines WHERE run_id = $1 ORDER BY line_no',
      [runId],
    );
    return rows.map((r) => ({ lineNo: r.line_no, text: r.text, code: r.code, reason: r.reason }));
  }

  /** Current events: those of each user's latest run that produced any (or of one run). */
  async events(opts: { userId?: string; runId?: string }): Promise<ExtractedEvent[]> {
    if (opts.runId) return this.eventsOfRun(opts.runId);
    const rows = await this.query<EventRow>(
      `SELECT ${eventCols('e.')} FROM events e
       WHERE e.run_id = (SELECT r.id FROM runs r WHERE r.user_id = e.user_id AND r.event_count > 0
                         ORDER BY r.created_at DESC, r.n DESC LIMIT 1)
       ${opts.userId ? 'AND e.user_id = $1' : ''}
       ORDER BY e.user_id, e.start_time, e.line_no`,
      opts.userId ? [opts.userId] : [],
    );
    return rows.map(toEvent);
  }
}
