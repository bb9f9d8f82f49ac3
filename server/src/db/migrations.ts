/** Ordered schema migrations; the index + 1 is the schema version stored in `user_version`. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT,
    profile TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
  );
  CREATE TABLE behaviours (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    ts TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    channel TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX behaviours_user_ts ON behaviours(user_id, ts);
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    model TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running','done','cancelled','error','interrupted')),
    created_at TEXT NOT NULL,
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
    truncated_total INTEGER
  );
  CREATE INDEX runs_user_created ON runs(user_id, created_at);
  CREATE INDEX runs_status ON runs(status);
  CREATE TABLE run_frames (
    run_id TEXT NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    user_id TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    start_time TEXT NOT NULL,
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
  ) WITHOUT ROWID;
  `,
  // v2: frames of running runs go to an append-only journal (one page per commit at any number of
  // runs); a run's frames move to run_frames, in key order, once when it settles.
  `
  CREATE TABLE frame_journal (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL
  );
  `,
  // v3: the journal holds one row per flush (every run's frames of that tick, one JSON per line) and a
  // settled run's log is one row: a tick and a settle each cost one row, not one per frame.
  `
  CREATE TABLE run_logs (
    run_id TEXT PRIMARY KEY REFERENCES runs(id),
    frames TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO run_logs (run_id, frames)
    SELECT run_id, group_concat(data, char(10) ORDER BY seq) FROM run_frames GROUP BY run_id;
  DROP TABLE run_frames;
  CREATE TABLE frame_batches (
    id INTEGER PRIMARY KEY,
    frames TEXT NOT NULL
  );
  INSERT INTO frame_batches (frames)
    SELECT group_concat(data, char(10) ORDER BY id) FROM frame_journal HAVING count(*) > 0;
  DROP TABLE frame_journal;
  `,
  // v4: the client's start key, so a retried start returns the run it already started.
  `
  ALTER TABLE runs ADD COLUMN start_key TEXT;
  CREATE UNIQUE INDEX runs_start_key ON runs(start_key) WHERE start_key IS NOT NULL;
  `,
  // v5: an import writes its rows in short transactions, tagged with its id and hidden from readers while
  // its row of imports is not 'published'; publishing flips that one row. AUTOINCREMENT: an id is never
  // reused, so rows of a published import cannot be hidden again by a later one.
  `
  CREATE TABLE imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL CHECK (state IN ('staging', 'discarding', 'published')),
    owner TEXT NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    published_at TEXT,
    users INTEGER,
    behaviours INTEGER
  );
  ALTER TABLE users ADD COLUMN import_id INTEGER;
  ALTER TABLE behaviours ADD COLUMN import_id INTEGER;
  CREATE INDEX users_import ON users(import_id) WHERE import_id IS NOT NULL;
  CREATE INDEX behaviours_import ON behaviours(import_id) WHERE import_id IS NOT NULL;
  CREATE TABLE import_user_updates (
    import_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT,
    profile TEXT NOT NULL,
    PRIMARY KEY (import_id, user_id)
  );
  `,
  // v6: a run a clean stop cancelled is continued at the next start (a person's cancel never is).
  `
  ALTER TABLE runs ADD COLUMN resume_on_start INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX runs_resume_on_start ON runs(resume_on_start) WHERE resume_on_start = 1;
  `,
  // v7: users and behaviours are read through views: rows of an import not yet published are hidden, and
  // the name and profile a published import gives an existing user show at once, while they are moved into
  // its row a slice at a time (so publishing stays one short statement however many users it updates).
  `
  CREATE VIEW visible_users AS
    SELECT u.id, u.created_at,
      CASE WHEN p.user_id IS NULL THEN u.name ELSE coalesce(p.name, u.name) END AS name,
      CASE WHEN p.user_id IS NULL OR p.profile = '{}' THEN u.profile ELSE p.profile END AS profile
    FROM users u
    LEFT JOIN import_user_updates p
      ON p.user_id = u.id AND p.import_id IN (SELECT id FROM imports WHERE state = 'published')
    WHERE u.import_id IS NULL OR u.import_id NOT IN (SELECT id FROM imports WHERE state <> 'published');
  CREATE VIEW visible_behaviours AS
    SELECT b.id, b.user_id, b.ts, b.action, b.object, b.channel, b.detail
    FROM behaviours b
    WHERE b.import_id IS NULL OR b.import_id NOT IN (SELECT id FROM imports WHERE state <> 'published');
  `,
];
