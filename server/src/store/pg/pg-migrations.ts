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
