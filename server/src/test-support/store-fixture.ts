import pg from 'pg';
import type { FrameDraft } from '@app/shared';
import type { DB } from '../db/open-database.js';
import { FrameCodec } from '../runs/frame-codec.js';

/**
 * The same users, behaviours, runs, events, rejected lines, settled logs and journaled frames, written
 * with plain SQL into SQLite or PostgreSQL: both stores must answer alike for them. Rows go in the same
 * order in both, so SQLite's rowid and PostgreSQL's `n` break ties alike.
 */

type Row = Record<string, string | number | null>;

const T1 = '2026-03-01T09:00:00.000Z';
const T2 = '2026-03-02T09:00:00.000Z';
const T3 = '2026-03-03T09:00:00.000Z';

/** Ids that sort differently bytewise than in most locales (upper case first, punctuation). */
const USERS: Row[] = [
  { id: 'u1', name: '张先生', profile: '{"city":"上海","预算":"30万"}', created_at: T1 },
  { id: 'U2', name: null, profile: '{}', created_at: T1 },
  { id: 'u-1', name: 'Li Lei', profile: '{"city":"Beijing","note":"100%_sure\\\\"}', created_at: T2 },
  { id: 'a.b', name: '王女士', profile: '{"age":35,"vip":true,"x":null}', created_at: T2 },
  { id: 'z9', name: 'ZOE', profile: '{}', created_at: T3 },
];

const behaviour = (id: string, userId: string, ts: string, detail: string | null = null): Row => ({
  id,
  user_id: userId,
  ts,
  action: '浏览车型',
  object: '小米SU7',
  channel: 'app',
  detail,
});

const BEHAVIOURS: Row[] = [
  behaviour('u1-b', 'u1', '2026-01-02 10:00', '看了"内饰"\n和外观'),
  behaviour('u1-a', 'u1', '2026-01-02 10:00'),
  behaviour('u1-0', 'u1', '2026-01-01 08:00', 'detail'),
  behaviour('U2-1', 'U2', '2026-01-03 09:30'),
  behaviour('ab-2', 'a.b', '2026-01-04 12:00'),
  behaviour('ab-1', 'a.b', '2026-01-05 12:00', '到店'),
];

const event = (runId: string, userId: string, lineNo: number, startTime: string) => ({
  runId,
  userId,
  eventType: '到店看车',
  startTime,
  endTime: startTime,
  sourceBehaviorIds: [`${userId}-x`],
  summary: `用户${userId}第${lineNo}行`,
  lineNo,
});

/** A run's frames, seq 1… in order. */
function frames(runId: string, drafts: FrameDraft[], from = 1): string[] {
  const codec = new FrameCodec(runId);
  return drafts.map((d, i) =>
    d.type === 'llm_chunk' ? codec.chunk(from + i, d.content) : codec.encode(from + i, d),
  );
}

const outcome = { events: 1, rejected: 0, pieces: 2, usage: null, durationMs: 5 };
const start = (userId: string): FrameDraft => ({
  type: 'start',
  userId,
  model: 'builtin-rules-v1',
  message: `开始为用户 ${userId} 抽象事件`,
  behaviourCount: 3,
  truncated: null,
});
const chunk = (content: string): FrameDraft => ({ type: 'llm_chunk', content });
const eventFrame = (e: ReturnType<typeof event>, replaces?: number[]): FrameDraft => ({
  type: 'event',
  event: e,
  percent: 50,
  ...(replaces ? { replaces } : {}),
});
const rejection = (lineNo: number): FrameDraft => ({
  type: 'progress',
  message: '一行被拒',
  stage: 'line_rejected',
  percent: 50,
  rejected: { lineNo, text: '胡言乱语', code: 'prose', reason: 'not an event line' },
});

/** Settled logs (`run_logs`) and journaled frames of runs still running. */
const R1_LOG = frames('run_aaaaaa01', [
  start('u1'),
  chunk('u1|到店看车|2026-01-02 10:00|'),
  chunk('2026-01-02 10:00|u1-a|看车\n'),
  eventFrame(event('run_aaaaaa01', 'u1', 1, '2026-01-02 10:00')),
  { type: 'done', message: '抽象完成', ...outcome },
]);
const R3_JOURNAL = frames('run_aaaaaa03', [
  start('u1'),
  chunk('第一行：“引号”\\n'),
  eventFrame(event('run_aaaaaa03', 'u1', 1, '2026-01-02 10:00')),
  rejection(2),
  chunk('胡言乱语\n'),
  eventFrame(event('run_aaaaaa03', 'u1', 3, '2026-01-01 08:00'), [1]),
]);
/** A run that settled, then was resumed: its old log, then newer frames in the journal (with a gap). */
const R5_LOG = frames('run_aaaaaa05', [
  start('a.b'),
  chunk('a.b|试驾|'),
  { type: 'cancelled', message: '已取消', reason: 'shutdown', ...outcome },
]);
const R5_JOURNAL = frames(
  'run_aaaaaa05',
  [
    { type: 'progress', message: '继续', stage: 'resumed', percent: 0 },
    chunk('2026-01-04 12:00|'),
    chunk('…'),
  ],
  4,
);
const R5_AFTER_GAP = frames('run_aaaaaa05', [chunk('never read: seq 8 is missing')], 9);

const run = (id: string, userId: string, status: string, createdAt: string, extra: Row = {}): Row => ({
  id,
  user_id: userId,
  model: 'builtin-rules-v1',
  status,
  created_at: createdAt,
  updated_at: createdAt,
  finished_at: status === 'running' ? null : createdAt,
  text: '',
  last_seq: 0,
  event_count: 0,
  rejected_count: 0,
  pieces: 0,
  duration_ms: 0,
  prompt_tokens: null,
  completion_tokens: null,
  usage_estimated: null,
  error_code: null,
  error_message: null,
  behaviour_ids: '[]',
  truncated_included: null,
  truncated_total: null,
  start_key: null,
  resume_on_start: 0,
  ...extra,
});

/** r2 and r3 start at the same moment: insertion order decides which is the latest. */
const RUNS: Row[] = [
  run('run_aaaaaa01', 'u1', 'done', T1, {
    text: 'u1|到店看车|2026-01-02 10:00|2026-01-02 10:00|u1-a|看车\n',
    last_seq: R1_LOG.length,
    event_count: 1,
    rejected_count: 1,
    pieces: 2,
    duration_ms: 1234,
    prompt_tokens: 10,
    completion_tokens: 20,
    usage_estimated: 0,
    behaviour_ids: '["u1-a","u1-b"]',
    start_key: 'key-1',
  }),
  run('run_aaaaaa02', 'u1', 'cancelled', T2, {
    event_count: 1,
    prompt_tokens: 7,
    completion_tokens: 3,
    usage_estimated: 1,
    resume_on_start: 1,
  }),
  run('run_aaaaaa03', 'u1', 'running', T2, { event_count: 1, last_seq: 2, pieces: 1 }),
  run('run_aaaaaa04', 'a.b', 'interrupted', T1, {
    event_count: 1,
    rejected_count: 1,
    error_code: 'interrupted',
    truncated_included: 10,
    truncated_total: 20,
    resume_on_start: 1,
  }),
  run('run_aaaaaa05', 'a.b', 'running', T3, { last_seq: 3, start_key: 'key-5' }),
  run('run_aaaaaa06', 'U2', 'error', T3, { error_code: 'upstream_error', error_message: '上游出错' }),
];

const eventRow = (e: ReturnType<typeof event>): Row => ({
  run_id: e.runId,
  user_id: e.userId,
  line_no: e.lineNo,
  event_type: e.eventType,
  start_time: e.startTime,
  end_time: e.endTime,
  source_ids: JSON.stringify(e.sourceBehaviorIds),
  summary: e.summary,
});

const EVENTS: Row[] = [
  eventRow(event('run_aaaaaa01', 'u1', 2, '2026-01-01 08:00')),
  eventRow(event('run_aaaaaa01', 'u1', 1, '2026-01-02 10:00')),
  eventRow(event('run_aaaaaa02', 'u1', 1, '2026-01-02 10:00')),
  eventRow(event('run_aaaaaa03', 'u1', 1, '2026-01-02 10:00')),
  eventRow(event('run_aaaaaa04', 'a.b', 3, '2026-01-05 12:00')),
  eventRow(event('run_aaaaaa04', 'a.b', 1, '2026-01-04 12:00')),
];

const REJECTED: Row[] = [
  { run_id: 'run_aaaaaa01', line_no: 3, text: '不是事件', code: 'prose', reason: 'not an event line' },
  { run_id: 'run_aaaaaa04', line_no: 2, text: 'a|b', code: 'field_count', reason: 'expected 6 fields' },
];

const LOGS: Row[] = [
  { run_id: 'run_aaaaaa01', frames: R1_LOG.join('\n') },
  { run_id: 'run_aaaaaa05', frames: R5_LOG.join('\n') },
];

/** Every run id of the fixture, and one that does not exist. */
export const RUN_IDS = [...RUNS.map((r) => r.id as string), 'run_missing0'];
export const USER_IDS = [...USERS.map((u) => u.id as string), 'nobody'];
export const BEHAVIOUR_IDS = [...BEHAVIOURS.map((b) => b.id as string), 'nothing'];

const TABLES: [string, Row[]][] = [
  ['users', USERS],
  ['behaviours', BEHAVIOURS],
  ['runs', RUNS],
  ['events', EVENTS],
  ['rejected_lines', REJECTED],
  ['run_logs', LOGS],
];

/** Writes the fixture into a migrated SQLite database; journaled frames go into two batches, interleaved. */
export function fillSqlite(db: DB): void {
  db.transaction(() => {
    for (const [table, rows] of TABLES) {
      for (const row of rows) {
        const cols = Object.keys(row);
        db.prepare(
          `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        ).run(...Object.values(row));
      }
    }
    const batch = db.prepare('INSERT INTO frame_batches (frames) VALUES (?)');
    batch.run([...R3_JOURNAL.slice(0, 3), ...R5_JOURNAL.slice(0, 1)].join('\n'));
    batch.run([...R5_JOURNAL.slice(1), ...R3_JOURNAL.slice(3), ...R5_AFTER_GAP].join('\n'));
  })();
}

/** Writes the fixture into a PostgreSQL database migrated by `migratePg`. */
export async function fillPg(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const [table, rows] of TABLES) {
      for (const row of rows) {
        const cols = Object.keys(row);
        await client.query(
          `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          Object.values(row),
        );
      }
    }
    const journal: [string, string[], number][] = [
      ['run_aaaaaa03', R3_JOURNAL, 1],
      ['run_aaaaaa05', R5_JOURNAL, 4],
      ['run_aaaaaa05', R5_AFTER_GAP, 9],
    ];
    for (const [runId, list, from] of journal) {
      for (const [i, frame] of list.entries()) {
        await client.query('INSERT INTO frame_journal (run_id, seq, frame) VALUES ($1, $2, $3)', [
          runId,
          from + i,
          frame,
        ]);
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/** A pool for tests: a connect that cannot succeed fails within 2 s, and a dropped idle connection is not fatal. */
export function testPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 2000, max });
  pool.on('error', () => {});
  return pool;
}
