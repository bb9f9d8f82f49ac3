import type pg from 'pg';

/**
 * The PostgreSQL schema, one entry per version. Columns mirror the SQLite ones (times are ISO text, lists
 * JSON text), so both stores hand out the same values. Imports need no staging here: one transaction
 * hides every row until it commits.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  -- Text that results are ordered by is compared bytewise (COLLATE "C"), as SQLite does, whatever the
  -- database's locale; so its indexes serve those orders.
  CREATE TABLE users (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT,
    profile TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
  );
  CREATE TABLE behaviours (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    ts TEXT COLLATE "C" NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    channel TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX behaviours_user_ts ON behaviours(user_id, ts, id);
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    model TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running','done','cancelled','error','interrupted')),
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    text TEXT NOT NULL DEFAULT '',
    last_seq INTEGER NOT NULL DEFAULT 0,
    event_count INTEGER NOT NULL DEFAULT 0,
    rejected_count INTEGER NOT NULL DEFAULT 0,
    pieces INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    usage_estimated INTEGER,
    error_code TEXT,
    error_message TEXT,
    behaviour_ids TEXT NOT NULL DEFAULT '[]',
    truncated_included INTEGER,
    truncated_total INTEGER,
    start_key TEXT UNIQUE,
    resume_on_start INTEGER NOT NULL DEFAULT 0,
    -- Insertion order, the tie-break SQLite's rowid gives.
    n BIGSERIAL
  );
  CREATE INDEX runs_user_created ON runs(user_id, created_at);
  CREATE INDEX runs_status ON runs(status);
  CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    user_id TEXT COLLATE "C" NOT NULL,
    line_no INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    start_time TEXT COLLATE "C" NOT NULL,
    end_time TEXT NOT NULL,
    source_ids TEXT NOT NULL,
    summary TEXT NOT NULL
  );
  CREATE INDEX events_run ON events(run_id, line_no);
  CREATE INDEX events_user ON events(user_id);
  CREATE TABLE rejected_lines (
    run_id TEXT NOT NULL REFERENCES runs(id),
    line_no INTEGER NOT NULL,
    text TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, line_no)
  );
  -- A settled run's whole log, one JSON per line.
  CREATE TABLE run_logs (
    run_id TEXT PRIMARY KEY REFERENCES runs(id),
    frames TEXT NOT NULL
  );
  -- Frames of running runs when no Redis holds them (DATABASE_URL alone); a run's rows go when it settles.
  CREATE TABLE frame_journal (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    frame TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  `,
  `
  -- One records write of the writer (pg-writer.ts) in one round trip, whatever the runs: lines of replaced
  -- runs cleared, events and rejected lines added, merged-away events dropped, settled logs stored, rows
  -- updated, in this order and atomically (one statement). Each argument holds every run's rows as JSON.
  CREATE FUNCTION store_run_records(p_replaced TEXT[], p_events JSON, p_rejected JSON, p_dropped JSON,
    p_logs JSON, p_runs JSON, p_now TEXT) RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    IF cardinality(p_replaced) > 0 THEN
      DELETE FROM events WHERE run_id = ANY(p_replaced);
      DELETE FROM rejected_lines WHERE run_id = ANY(p_replaced);
    END IF;
    INSERT INTO events (run_id, user_id, line_no, event_type, start_time, end_time, source_ids, summary)
      SELECT e.run_id, e.user_id, e.line_no, e.event_type, e.start_time, e.end_time, e.source_ids, e.summary
      FROM json_to_recordset(p_events) AS e(run_id text, user_id text, line_no int, event_type text,
        start_time text, end_time text, source_ids text, summary text);
    INSERT INTO rejected_lines (run_id, line_no, text, code, reason)
      SELECT r.run_id, r.line_no, r.text, r.code, r.reason
      FROM json_to_recordset(p_rejected) AS r(run_id text, line_no int, text text, code text, reason text)
      ON CONFLICT (run_id, line_no) DO UPDATE SET text = excluded.text, code = excluded.code,
        reason = excluded.reason;
    DELETE FROM events AS e USING json_to_recordset(p_dropped) AS d(run_id text, line_no int)
      WHERE e.run_id = d.run_id AND e.line_no = d.line_no;
    INSERT INTO run_logs (run_id, frames)
      SELECT l.run_id, l.frames FROM json_to_recordset(p_logs) AS l(run_id text, frames text)
      ON CONFLICT (run_id) DO UPDATE SET frames = excluded.frames;
    UPDATE runs AS r SET text = CASE WHEN p.finished THEN p.text ELSE r.text END, last_seq = p.last_seq,
      event_count = p.event_count, rejected_count = p.rejected_count, pieces = p.pieces,
      duration_ms = p.duration_ms, status = p.status, prompt_tokens = p.prompt_tokens,
      completion_tokens = p.completion_tokens, usage_estimated = p.usage_estimated,
      error_code = p.error_code, error_message = p.error_message, updated_at = p_now,
      resume_on_start = p.resume_on_start, finished_at = CASE WHEN p.finished THEN p_now ELSE NULL END
    FROM json_to_recordset(p_runs) AS p(id text, finished boolean, text text, last_seq int, event_count int,
      rejected_count int, pieces int, duration_ms int, status text, prompt_tokens int, completion_tokens int,
      usage_estimated int, error_code text, error_message text, resume_on_start int)
    WHERE r.id = p.id;
  END $$;
  `,
];

/** Any fixed number: instances that start together take this lock in turn, so the first one migrates. */
const MIGRATION_LOCK = 4_211_977;

/** Brings the schema up to date, once however many instances start at the same moment. */
export async function migratePg(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const from = row.rows[0]?.version ?? 0;
    for (let v = from; v < PG_MIGRATIONS.length; v++) await client.query(PG_MIGRATIONS[v]!);
    if (row.rows.length === 0)
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [PG_MIGRATIONS.length]);
    else await client.query('UPDATE schema_version SET version = $1', [PG_MIGRATIONS.length]);
    await client.query('COMMIT');
    return { from, to: PG_MIGRATIONS.length };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
