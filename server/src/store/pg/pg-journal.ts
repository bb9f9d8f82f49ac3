import type pg from 'pg';
import type { JournalReader } from '../types.js';
import { pgErrorToApp } from './pg-errors.js';

/** Reads the frames of running runs from `frame_journal` (PostgreSQL without Redis). */
export class PgJournalReader implements JournalReader {
  constructor(private readonly pool: pg.Pool) {}

  async framesAfter(runId: string, after: number): Promise<string[]> {
    const { rows } = await this.pool
      .query<{ seq: number; frame: string }>(
        'SELECT seq, frame FROM frame_journal WHERE run_id = $1 AND seq > $2 ORDER BY seq',
        [runId, after],
      )
      .catch(pgErrorToApp);
    // Up to the first gap, as the SQLite journal reads: a frame is never handed out before one it follows.
    const out: string[] = [];
    for (const r of rows) {
      if (r.seq !== after + out.length + 1) break;
      out.push(r.frame);
    }
    return out;
  }
}
