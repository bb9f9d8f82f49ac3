import type pg from 'pg';
import type { Journal, JournalEntry } from './pg-writer.js';

/** Frames of running runs in PostgreSQL (DATABASE_URL without Redis): one row per frame, gone at settle. */
export class PgFrameJournal implements Journal {
  constructor(private readonly pool: pg.Pool) {}

  /** A run's rows are its journal: nothing to make beforehand. */
  async open(): Promise<void> {}

  async append(frames: JournalEntry[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO frame_journal (run_id, seq, frame)
       SELECT run_id, seq, frame FROM json_to_recordset($1::json) AS f(run_id text, seq int, frame text)
       ON CONFLICT (run_id, seq) DO NOTHING`,
      [JSON.stringify(frames.map((f) => ({ run_id: f.runId, seq: f.seq, frame: f.json })))],
    );
  }

  async release(runIds: string[]): Promise<void> {
    await this.pool.query('DELETE FROM frame_journal WHERE run_id = ANY($1::text[])', [runIds]);
  }
}
