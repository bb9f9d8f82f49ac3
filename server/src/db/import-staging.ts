import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ImportTarget } from '../store/types.js';
import type { DB } from './open-database.js';

/** A JSON array of rows, as text or UTF-8 bytes (bytes are read as text: `CAST(? AS TEXT)`). */
export type Slice = string | Uint8Array;

/** Another import of this database is being written or cleaned up, in this process or another one. */
export class ImportBusyError extends Error {
  constructor() {
    super('Another import is in progress; try again when it has finished.');
  }
}

/** The import was found stale and taken over for cleanup by another process: it must not publish. */
export class ImportLostError extends Error {
  constructor(id: number) {
    super(`Import ${id} was discarded by another process while it was being written.`);
  }
}

/** An import with no heartbeat for this long is taken for dead (every write slice beats, ms apart). */
const STALE_MS = 15_000;

/** Host, pid and a token: a later process that reuses this pid is told apart from this one. */
const OWNER = `${hostname()}:${process.pid}:${randomUUID()}`;

interface ImportRow {
  id: number;
  state: 'staging' | 'discarding' | 'published';
  owner: string;
  heartbeatAt: number;
}

/** The process that wrote `owner` has exited, as far as this host can tell. */
function ownerGone(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname()) return false;
  if (Number(pid) === process.pid) return owner !== OWNER;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const isStale = (r: ImportRow) => ownerGone(r.owner) || Date.now() - r.heartbeatAt > STALE_MS;

/**
 * Writes an import into `users` and `behaviours` in short transactions, its rows tagged with its id and
 * hidden from readers (the views `visible_users` and `visible_behaviours`) until {@link publish} flips its
 * one row of `imports`. A database holds one import being written at a time; {@link sweepStep} deletes the
 * rows of a failed or crashed one, and moves published user updates into the users' rows, in slices.
 */
export class ImportStaging implements ImportTarget {
  private readonly stmt;

  constructor(private readonly db: DB) {
    this.stmt = {
      unpublished: db.prepare<[], ImportRow>(
        `SELECT id, state, owner, heartbeat_at AS heartbeatAt FROM imports WHERE state <> 'published' ORDER BY id`,
      ),
      insert: db.prepare<[string, number, string], { id: number }>(
        `INSERT INTO imports (state, owner, heartbeat_at, started_at) VALUES ('staging', ?, ?, ?) RETURNING id`,
      ),
      beat: db.prepare<[number, number, string]>(
        `UPDATE imports SET heartbeat_at = ? WHERE id = ? AND owner = ? AND state = 'staging'`,
      ),
      abandon: db.prepare<[number, number]>(
        `UPDATE imports SET state = 'discarding', heartbeat_at = ? WHERE id = ? AND state = 'staging'`,
      ),
      claim: db.prepare<[string, number, number]>(
        `UPDATE imports SET state = 'discarding', owner = ?, heartbeat_at = ? WHERE id = ?`,
      ),
      publish: db.prepare<[string, number, number, number, string]>(
        `UPDATE imports SET state = 'published', published_at = ?, users = ?, behaviours = ?
         WHERE id = ? AND owner = ? AND state = 'staging'`,
      ),
      unfolded: db.prepare<[], { id: number }>(
        `SELECT import_id AS id FROM import_user_updates
         WHERE import_id IN (SELECT id FROM imports WHERE state = 'published') LIMIT 1`,
      ),
      // The same rows (first by user, the key's order) are folded into users, then deleted, in one transaction.
      fold: db.prepare<[number, number]>(
        `UPDATE users SET
           name = coalesce(p.name, users.name),
           profile = CASE WHEN p.profile = '{}' THEN users.profile ELSE p.profile END
         FROM (SELECT user_id, name, profile FROM import_user_updates WHERE import_id = ? ORDER BY user_id LIMIT ?) p
         WHERE users.id = p.user_id`,
      ),
      existingBehaviours: db.prepare<[Slice], { i: number; id: string; userId: string }>(
        `SELECT j.key AS i, b.id, b.user_id AS userId FROM json_each(CAST(? AS TEXT)) j JOIN behaviours b ON b.id = j.value->>'id'`,
      ),
      // An existing user keeps its row until publish; only its new name and profile are staged.
      stageUpdates: db.prepare<[number, Slice]>(
        `INSERT INTO import_user_updates (import_id, user_id, name, profile)
         SELECT ?, value->>'id', value->>'name', value->'profile' FROM json_each(CAST(? AS TEXT))
         WHERE EXISTS (SELECT 1 FROM users WHERE id = value->>'id')`,
      ),
      insertUsers: db.prepare<[string, number, Slice]>(
        `INSERT INTO users (id, name, profile, created_at, import_id)
         SELECT value->>'id', value->>'name', value->'profile', ?, ? FROM json_each(CAST(? AS TEXT))
         WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = value->>'id')`,
      ),
      insertMentioned: db.prepare<[string, number, Slice]>(
        `INSERT INTO users (id, name, profile, created_at, import_id)
         SELECT value, NULL, '{}', ?, ? FROM json_each(CAST(? AS TEXT))
         WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = value)`,
      ),
      insertBehaviours: db.prepare<[number, Slice]>(
        `INSERT INTO behaviours (id, user_id, ts, action, object, channel, detail, import_id)
         SELECT value->>'id', value->>'userId', value->>'ts', value->>'action', value->>'object',
           value->>'channel', value->>'detail', ? FROM json_each(CAST(? AS TEXT))`,
      ),
      deleteBehaviours: db.prepare<[number, number]>(
        'DELETE FROM behaviours WHERE rowid IN (SELECT rowid FROM behaviours WHERE import_id = ? LIMIT ?)',
      ),
      deleteUpdates: db.prepare<[number, number]>(
        'DELETE FROM import_user_updates WHERE rowid IN (SELECT rowid FROM import_user_updates WHERE import_id = ? ORDER BY user_id LIMIT ?)',
      ),
      deleteUsers: db.prepare<[number, number]>(
        'DELETE FROM users WHERE rowid IN (SELECT rowid FROM users WHERE import_id = ? LIMIT ?)',
      ),
      deleteImport: db.prepare<[number]>('DELETE FROM imports WHERE id = ?'),
    };
  }

  /**
   * Opens an import and returns its id; throws {@link ImportBusyError} while any other one is being written
   * or cleaned up. Sweep stale ones first: their hidden rows would otherwise collide with this import's.
   */
  begin(): number {
    const open = this.db.transaction(() => {
      if (this.stmt.unpublished.all().some((r) => !isStale(r))) throw new ImportBusyError();
      return this.stmt.insert.get(OWNER, Date.now(), new Date().toISOString())!.id;
    });
    // IMMEDIATE: two processes cannot both see the slot free.
    return open.immediate();
  }

  /** Behaviours of a slice (JSON array) whose id is taken: position in the slice, id and owner. */
  existingBehaviours(slice: Slice): { i: number; id: string; userId: string }[] {
    return this.stmt.existingBehaviours.all(slice);
  }

  /**
   * Writes one slice (a JSON array, see `ImportSlices`) in one transaction: users of the file (new ones
   * hidden until publish; for existing ones the new name and profile, shown from publish on), users only
   * named by behaviours (those that do not exist yet), or behaviours. Returns the rows inserted.
   */
  write(importId: number, kind: 'users' | 'mentioned' | 'behaviours', slice: Slice): number {
    const now = new Date().toISOString();
    const step = this.db.transaction(() => {
      if (this.stmt.beat.run(Date.now(), importId, OWNER).changes !== 1) throw new ImportLostError(importId);
      switch (kind) {
        case 'users':
          this.stmt.stageUpdates.run(importId, slice);
          return this.stmt.insertUsers.run(now, importId, slice).changes;
        case 'mentioned':
          return this.stmt.insertMentioned.run(now, importId, slice).changes;
        case 'behaviours':
          return this.stmt.insertBehaviours.run(importId, slice).changes;
        default: {
          const _: never = kind;
          return _;
        }
      }
    });
    return step();
  }

  /**
   * Makes every row of the import visible at once, and the names and profiles it gives existing users
   * (readers see them through `visible_users`; {@link sweepStep} then moves them into the users' rows).
   */
  publish(importId: number, counts: { users: number; behaviours: number }): void {
    const now = new Date().toISOString();
    const r = this.stmt.publish.run(now, counts.users, counts.behaviours, importId, OWNER);
    if (r.changes !== 1) throw new ImportLostError(importId);
  }

  /** Marks an unpublished import for deletion; {@link sweepStep} then removes its rows. */
  abandon(importId: number): void {
    this.stmt.abandon.run(Date.now(), importId);
  }

  /**
   * Deletes up to `limit` rows of one import this process abandoned or that was left stale (by a crash),
   * or else moves up to `limit` user updates of a published import into the users' rows; false once there
   * is nothing of either. One short transaction per call, so callers can yield between calls.
   */
  sweepStep(limit = 500): boolean {
    const step = this.db.transaction(() => {
      const target = this.stmt.unpublished
        .all()
        .find((r) => (r.state === 'discarding' && r.owner === OWNER) || isStale(r));
      if (target) {
        this.stmt.claim.run(OWNER, Date.now(), target.id);
        // Behaviours before their users, for the foreign key.
        let n = this.stmt.deleteBehaviours.run(target.id, limit).changes;
        if (n < limit) n += this.stmt.deleteUpdates.run(target.id, limit - n).changes;
        if (n < limit) n += this.stmt.deleteUsers.run(target.id, limit - n).changes;
        if (n < limit) this.stmt.deleteImport.run(target.id);
        return true;
      }
      const published = this.stmt.unfolded.get();
      if (!published) return false;
      this.stmt.fold.run(published.id, limit);
      this.stmt.deleteUpdates.run(published.id, limit);
      return true;
    });
    return step.immediate();
  }

  /** A unique or primary key was violated (a behaviour id written by someone else since it was checked). */
  isConflict(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
  }

  /** Sweeps everything {@link sweepStep} would, at once (start-up: nothing is waiting on the loop yet). */
  sweepAll(): void {
    while (this.sweepStep(10_000)) {
      // each step commits on its own, so another process's writes get in between
    }
  }
}
