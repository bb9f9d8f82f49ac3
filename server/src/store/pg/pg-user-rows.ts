import type pg from 'pg';
import type { ImportSlice } from '../types.js';

/** A pool or a client in a transaction. */
type Queryable = Pick<pg.ClientBase, 'query'>;

/** A slice's JSON text: bytes are UTF-8. */
export const sliceText = (slice: ImportSlice): string =>
  typeof slice === 'string'
    ? slice
    : Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength).toString('utf8');

/**
 * Inserts or updates users given as a JSON array of `{ id, name, profile }` in one statement; an existing
 * user keeps its name where the row has none and its profile where the row's is empty (SQLite's rule).
 * Ids must be distinct. Returns how many were new.
 */
export async function upsertUsers(db: Queryable, json: string, now: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH up AS (
       INSERT INTO users AS u (id, name, profile, created_at)
       SELECT r.id, r.name, r.profile::text, $2 FROM json_to_recordset($1::json) AS r(id text, name text, profile json)
       ON CONFLICT (id) DO UPDATE SET
         name = coalesce(excluded.name, u.name),
         profile = CASE WHEN excluded.profile = '{}' THEN u.profile ELSE excluded.profile END
       RETURNING xmax = 0 AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted)::int AS n FROM up`,
    [json, now],
  );
  return rows[0]!.n;
}

/** Creates the users of a JSON array of ids that do not exist yet, with no name and an empty profile. */
export async function insertMissingUsers(db: Queryable, json: string, now: string): Promise<number> {
  const r = await db.query(
    `INSERT INTO users (id, name, profile, created_at)
     SELECT m.id, NULL, '{}', $2 FROM json_array_elements_text($1::json) AS m(id)
     ON CONFLICT (id) DO NOTHING`,
    [json, now],
  );
  return r.rowCount ?? 0;
}

/** Inserts behaviours given as a JSON array of `Behaviour`s in one statement; returns how many. */
export async function insertBehaviours(db: Queryable, json: string): Promise<number> {
  const r = await db.query(
    `INSERT INTO behaviours (id, user_id, ts, action, object, channel, detail)
     SELECT b.id, b."userId", b.ts, b.action, b.object, b.channel, b.detail
     FROM json_to_recordset($1::json)
       AS b(id text, "userId" text, ts text, action text, object text, channel text, detail text)`,
    [json],
  );
  return r.rowCount ?? 0;
}
