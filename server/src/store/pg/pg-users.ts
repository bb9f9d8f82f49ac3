import type pg from 'pg';
import type { Behaviour, Profile, RunStatus, User, UserListItem } from '@app/shared';
import type { UsersStore } from '../types.js';
import { checkout, pgErrorToApp } from './pg-errors.js';
import { PgImportTarget } from './pg-imports.js';
import { insertBehaviours, upsertUsers } from './pg-user-rows.js';

interface UserRow {
  id: string;
  name: string | null;
  profile: string;
}

const toUser = (r: UserRow): User => ({ id: r.id, name: r.name, profile: JSON.parse(r.profile) as Profile });

/**
 * Users, their profiles and behaviour logs in PostgreSQL. Answers as `UsersRepo` does for the same rows:
 * same order (ids and times compare bytewise, see the schema), same nulls, profiles parsed the same way.
 */
export class PgUsersStore implements UsersStore {
  readonly imports: PgImportTarget;

  constructor(private readonly pool: pg.Pool) {
    this.imports = new PgImportTarget(pool);
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params).catch(pgErrorToApp)).rows;
  }

  async get(id: string): Promise<User | null> {
    const [row] = await this.query<UserRow>('SELECT id, name, profile FROM users WHERE id = $1', [id]);
    return row ? toUser(row) : null;
  }

  async behaviours(userId: string): Promise<Behaviour[]> {
    return this.query<Behaviour>(
      `SELECT id, user_id AS "userId", ts, action, object, channel, detail
       FROM behaviours WHERE user_id = $1 ORDER BY ts, id`,
      [userId],
    );
  }

  async behaviourOwnerOf(id: string): Promise<string | null> {
    const [row] = await this.query<{ userId: string }>(
      'SELECT user_id AS "userId" FROM behaviours WHERE id = $1',
      [id],
    );
    return row?.userId ?? null;
  }

  async count(): Promise<number> {
    const [row] = await this.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    return row!.n;
  }

  /**
   * Search by id, name or profile text; newest run status included for the list view. ILIKE on `"C"` text
   * folds ASCII letters only, as SQLite's LIKE does.
   */
  async list(opts: {
    q?: string;
    limit: number;
    offset: number;
  }): Promise<{ items: UserListItem[]; total: number }> {
    const q = opts.q ? `%${opts.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : null;
    const where = q
      ? `WHERE u.id ILIKE $1 COLLATE "C" OR u.name ILIKE $1 COLLATE "C" OR u.profile ILIKE $1 COLLATE "C"`
      : '';
    const params = q ? [q] : [];
    const [counted, rows] = await Promise.all([
      this.query<{ n: number }>(`SELECT count(*)::int AS n FROM users u ${where}`, params),
      this.query<
        UserRow & {
          behaviourCount: number;
          runId: string | null;
          runStatus: RunStatus | null;
          runCreatedAt: string | null;
        }
      >(
        `SELECT u.id, u.name, u.profile,
           (SELECT count(*)::int FROM behaviours b WHERE b.user_id = u.id) AS "behaviourCount",
           r.id AS "runId", r.status AS "runStatus", r.created_at AS "runCreatedAt"
         FROM users u
         LEFT JOIN LATERAL (
           SELECT id, status, created_at FROM runs WHERE user_id = u.id ORDER BY created_at DESC, n DESC LIMIT 1
         ) r ON true
         ${where}
         ORDER BY u.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, opts.limit, opts.offset],
      ),
    ]);
    const items = rows.map((r) => ({
      ...toUser(r),
      behaviourCount: r.behaviourCount,
      lastRun: r.runId ? { id: r.runId, status: r.runStatus!, createdAt: r.runCreatedAt! } : null,
    }));
    return { items, total: counted[0]!.n };
  }

  /** Inserts or updates users and inserts behaviours in one transaction, a statement for each. */
  async upsertAll(users: User[], behaviours: Behaviour[]): Promise<{ users: number; behaviours: number }> {
    const now = new Date().toISOString();
    const { client, done } = await checkout(this.pool);
    try {
      await client.query('BEGIN');
      if (users.length > 0) await upsertUsers(client, JSON.stringify(mergeRepeats(users)), now);
      if (behaviours.length > 0) await insertBehaviours(client, JSON.stringify(behaviours));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      done(true);
      return pgErrorToApp(err);
    }
    done();
    return { users: users.length, behaviours: behaviours.length };
  }
}

/**
 * One row per id, each later row of an id applied over the earlier ones by the upsert's rule: one
 * statement cannot touch a row twice, and row by row (as SQLite does it) the outcome is the same.
 */
function mergeRepeats(users: User[]): User[] {
  const byId = new Map<string, User>();
  for (const u of users) {
    const prev = byId.get(u.id);
    byId.set(
      u.id,
      prev
        ? { id: u.id, name: u.name ?? prev.name, profile: isEmpty(u.profile) ? prev.profile : u.profile }
        : u,
    );
  }
  return [...byId.values()];
}

const isEmpty = (p: Profile) => JSON.stringify(p) === '{}';
