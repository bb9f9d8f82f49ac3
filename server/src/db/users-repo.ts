import type { Behaviour, Profile, RunStatus, User, UserListItem } from '@app/shared';
import { ImportStaging } from './import-staging.js';
import type { UsersStore } from '../store/types.js';
import type { DB } from './open-database.js';

export type { UserListItem } from '@app/shared';

interface UserRow {
  id: string;
  name: string | null;
  profile: string;
}

const toUser = (r: UserRow): User => ({ id: r.id, name: r.name, profile: JSON.parse(r.profile) as Profile });

/** Users, their profiles and behaviour logs, read through views that hide imports not yet published (v7). */
export class UsersRepo implements UsersStore {
  /** Where imports write their rows before they are published. */
  readonly imports: ImportStaging;
  private readonly byId;
  private readonly behavioursOf;
  private readonly behaviourOwner;
  private readonly countVisible;

  constructor(private readonly db: DB) {
    this.imports = new ImportStaging(db);
    // On start: rows a crashed import left (hidden all along) go now, not at the next import.
    this.imports.sweepAll();
    this.byId = db.prepare<[string], UserRow>('SELECT id, name, profile FROM visible_users WHERE id = ?');
    this.behavioursOf = db.prepare<[string], Behaviour>(
      `SELECT id, user_id AS userId, ts, action, object, channel, detail
       FROM visible_behaviours WHERE user_id = ? ORDER BY ts, id`,
    );
    this.behaviourOwner = db.prepare<[string], { userId: string }>(
      'SELECT user_id AS userId FROM visible_behaviours WHERE id = ?',
    );
    // All users less the hidden ones: a plain count(*) is a b-tree count, and hidden rows are found by index.
    this.countVisible = db.prepare<[], { n: number }>(
      `SELECT (SELECT count(*) FROM users) -
         (SELECT count(*) FROM users WHERE import_id IN (SELECT id FROM imports WHERE state <> 'published')) AS n`,
    );
  }

  async get(id: string): Promise<User | null> {
    const row = this.byId.get(id);
    return row ? toUser(row) : null;
  }

  async behaviours(userId: string): Promise<Behaviour[]> {
    return this.behavioursOf.all(userId);
  }

  async behaviourOwnerOf(id: string): Promise<string | null> {
    return this.behaviourOwner.get(id)?.userId ?? null;
  }

  async count(): Promise<number> {
    return this.countRows();
  }

  private countRows(): number {
    return this.countVisible.get()!.n;
  }

  /** Search by id, name or profile text; newest run status included for the list view. */
  async list(opts: {
    q?: string;
    limit: number;
    offset: number;
  }): Promise<{ items: UserListItem[]; total: number }> {
    const where = opts.q
      ? `WHERE u.id LIKE @q ESCAPE '\\' OR u.name LIKE @q ESCAPE '\\' OR u.profile LIKE @q ESCAPE '\\'`
      : '';
    const q = opts.q ? `%${opts.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : undefined;
    const total = opts.q
      ? (this.db.prepare(`SELECT count(*) AS n FROM visible_users u ${where}`).get({ q }) as { n: number }).n
      : this.countRows();
    const rows = this.db
      .prepare(
        `SELECT u.id, u.name, u.profile,
           (SELECT count(*) FROM visible_behaviours b WHERE b.user_id = u.id) AS behaviourCount,
           r.id AS runId, r.status AS runStatus, r.created_at AS runCreatedAt
         FROM visible_users u
         LEFT JOIN runs r ON r.id = (SELECT id FROM runs WHERE user_id = u.id ORDER BY created_at DESC, rowid DESC LIMIT 1)
         ${where}
         ORDER BY u.id LIMIT @limit OFFSET @offset`,
      )
      .all({ q, limit: opts.limit, offset: opts.offset }) as (UserRow & {
      behaviourCount: number;
      runId: string | null;
      runStatus: RunStatus | null;
      runCreatedAt: string | null;
    })[];
    const items = rows.map((r) => ({
      ...toUser(r),
      behaviourCount: r.behaviourCount,
      lastRun: r.runId ? { id: r.runId, status: r.runStatus!, createdAt: r.runCreatedAt! } : null,
    }));
    return { items, total };
  }

  /** Inserts or updates users and inserts behaviours, all in one transaction (all or nothing). */
  async upsertAll(users: User[], behaviours: Behaviour[]): Promise<{ users: number; behaviours: number }> {
    const now = new Date().toISOString();
    const upsertUser = this.db.prepare(
      `INSERT INTO users (id, name, profile, created_at) VALUES (@id, @name, @profile, @now)
       ON CONFLICT(id) DO UPDATE SET
         name = coalesce(excluded.name, users.name),
         profile = CASE WHEN excluded.profile = '{}' THEN users.profile ELSE excluded.profile END`,
    );
    const insertBehaviour = this.db.prepare(
      `INSERT INTO behaviours (id, user_id, ts, action, object, channel, detail)
       VALUES (@id, @userId, @ts, @action, @object, @channel, @detail)`,
    );
    this.db.transaction(() => {
      for (const u of users)
        upsertUser.run({ id: u.id, name: u.name, profile: JSON.stringify(u.profile), now });
      for (const b of behaviours) insertBehaviour.run(b);
    })();
    return { users: users.length, behaviours: behaviours.length };
  }
}
