import type pg from 'pg';
import { ImportBusyError } from '../../db/import-staging.js';
import type { ImportSlice, ImportTarget } from '../types.js';
import { checkout, pgErrorToApp, type Checkout } from './pg-errors.js';
import { insertBehaviours, insertMissingUsers, sliceText, upsertUsers } from './pg-user-rows.js';

/** Any fixed number (not the migration lock's): held by the transaction of the import being written. */
const IMPORT_LOCK = 4_211_978;

/**
 * Imports into PostgreSQL: each one is a transaction on a connection of its own from `begin` to `publish`,
 * so its rows are seen by nobody until it commits and leave nothing behind when it rolls back (or its
 * process dies). One import at a time per database, across every instance: the transaction holds an
 * advisory lock, and a second `begin` that cannot take it throws {@link ImportBusyError}.
 */
export class PgImportTarget implements ImportTarget {
  private readonly open = new Map<number, Checkout>();
  private lastId = 0;

  constructor(private readonly pool: pg.Pool) {}

  async begin(): Promise<number> {
    const out = await checkout(this.pool);
    try {
      await out.client.query('BEGIN');
      const { rows } = await out.client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        IMPORT_LOCK,
      ]);
      if (!rows[0]!.ok) throw new ImportBusyError();
    } catch (err) {
      await end(out, 'ROLLBACK').catch(() => {});
      return pgErrorToApp(err);
    }
    const id = ++this.lastId;
    this.open.set(id, out);
    return id;
  }

  /** Checked against committed rows, on the pool: the import's own rows are not in the way. */
  async existingBehaviours(slice: ImportSlice): Promise<{ i: number; id: string; userId: string }[]> {
    const { rows } = await this.pool
      .query<{ i: number; id: string; userId: string }>(
        `SELECT (j.ord - 1)::int AS i, b.id, b.user_id AS "userId"
         FROM json_array_elements($1::json) WITH ORDINALITY AS j(value, ord)
         JOIN behaviours b ON b.id = j.value->>'id'
         ORDER BY j.ord`,
        [sliceText(slice)],
      )
      .catch(pgErrorToApp);
    return rows;
  }

  /** Users of the file are inserted or updated (SQLite's rule); returns the rows inserted. */
  async write(
    importId: number,
    kind: 'users' | 'mentioned' | 'behaviours',
    slice: ImportSlice,
  ): Promise<number> {
    const client = this.open.get(importId)?.client;
    if (!client) throw new Error(`Import ${importId} is not open.`);
    const json = sliceText(slice);
    const now = new Date().toISOString();
    try {
      switch (kind) {
        case 'users':
          return await upsertUsers(client, json, now);
        case 'mentioned':
          return await insertMissingUsers(client, json, now);
        case 'behaviours':
          return await insertBehaviours(client, json);
        default: {
          const _: never = kind;
          return _;
        }
      }
    } catch (err) {
      return pgErrorToApp(err);
    }
  }

  async publish(importId: number): Promise<void> {
    const out = this.take(importId);
    if (!out) throw new Error(`Import ${importId} is not open.`);
    await end(out, 'COMMIT').catch(pgErrorToApp);
  }

  /** Never throws: a transaction whose connection is gone has been rolled back by the server already. */
  async abandon(importId: number): Promise<void> {
    const out = this.take(importId);
    if (out) await end(out, 'ROLLBACK').catch(() => {});
  }

  /** A rolled-back transaction leaves nothing to sweep. */
  sweepStep(): boolean {
    return false;
  }

  isConflict(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === '23505';
  }

  private take(importId: number): Checkout | undefined {
    const out = this.open.get(importId);
    this.open.delete(importId);
    return out;
  }
}

/** Ends the transaction and gives the connection back; one that failed is closed, not reused. */
async function end(out: Checkout, sql: 'COMMIT' | 'ROLLBACK'): Promise<void> {
  try {
    // COMMIT of a transaction a failed statement aborted answers ROLLBACK, without an error.
    if ((await out.client.query(sql)).command !== sql)
      throw new Error('The import transaction had failed: nothing of it was committed.');
  } catch (err) {
    out.done(true);
    throw err;
  }
  out.done();
}
