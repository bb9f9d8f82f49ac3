import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DB } from '../db/open-database.js';
import { UsersRepo } from '../db/users-repo.js';
import { ImportLostError } from '../db/import-staging.js';
import { importData } from './import-service.js';

const b = (id: string, userId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    user_id: userId,
    ts: '2026-01-05 10:00',
    action: '看车',
    object: '小米SU7',
    channel: 'store',
    ...extra,
  });

/** Over the size parsed in place, so these go through the worker: `n` behaviours of user `big`. */
const bigFile = (n: number, row = (i: number) => b(`big-${i}`, 'big')) =>
  Array.from({ length: n }, (_, i) => row(i)).join('\n');

let db: DB;
let repo: UsersRepo;
const counts = async () => ({
  users: await repo.count(),
  behaviours: (db.prepare('SELECT count(*) AS n FROM behaviours').get() as { n: number }).n,
});

beforeEach(async () => {
  db = openDatabase(':memory:');
  repo = new UsersRepo(db);
  await repo.upsertAll(
    [{ id: 'old', name: '李女士', profile: { city: '北京' } }],
    [
      {
        id: 'old-1',
        userId: 'old',
        ts: '2026-01-01 09:00',
        action: '浏览车型',
        object: '首页',
        channel: 'app',
        detail: null,
      },
    ],
  );
});
afterEach(() => db.close());

describe('importData', () => {
  it('writes a good file, creating users that only behaviours mention', async () => {
    const text = [
      JSON.stringify({ type: 'user', id: 'u1', name: '张先生', profile: { city: '上海' } }),
      b('u1-1', 'u1'),
      b('u2-1', 'u2'),
      b('u2-2', 'u2', { ts: '2026-01-05T11:00:00' }),
      b('old-2', 'old'),
    ].join('\n');
    expect(await importData(repo, text, 'jsonl')).toEqual({
      ok: true,
      users: 2,
      behaviours: 4,
      createdUsers: 1,
    });
    expect(await repo.get('u1')).toEqual({ id: 'u1', name: '张先生', profile: { city: '上海' } });
    expect(await repo.get('u2')).toEqual({ id: 'u2', name: null, profile: {} });
    expect((await repo.get('old'))?.profile).toEqual({ city: '北京' });
    expect((await repo.behaviours('u2')).map((x) => [x.id, x.ts])).toEqual([
      ['u2-1', '2026-01-05 10:00'],
      ['u2-2', '2026-01-05 11:00'],
    ]);
    expect(await counts()).toEqual({ users: 3, behaviours: 5 });
  });

  it('writes nothing when one row among good ones is bad', async () => {
    const before = await counts();
    const text = [
      JSON.stringify({ type: 'user', id: 'old', name: '改名', profile: { city: '深圳' } }),
      b('n-1', 'new'),
      b('n-2', 'new', { ts: '2026-02-30 10:00' }),
      b('n-3', 'new'),
    ].join('\n');
    expect(await importData(repo, text, 'jsonl')).toEqual({
      ok: false,
      errors: [{ line: 3, reason: 'ts "2026-02-30 10:00" is not a valid date' }],
    });
    expect(await counts()).toEqual(before);
    expect(await repo.get('old')).toEqual({ id: 'old', name: '李女士', profile: { city: '北京' } });
    expect(await repo.get('new')).toBeNull();
  });

  it('rejects behaviour ids already in the database, with their lines, alongside other errors', async () => {
    const csv = [
      'id,user_id,ts,action,object,channel',
      'x-1,old,2026-01-05 10:00,看车,X,store',
      'old-1,old,2026-01-05 10:00,看车,X,store',
      'x-2,old,bad,看车,X,store',
    ].join('\n');
    const r = await importData(repo, csv, 'csv');
    expect(r).toEqual({
      ok: false,
      errors: [
        { line: 3, reason: 'behaviour id old-1 already exists (user old)' },
        { line: 4, reason: expect.stringContaining('ts "bad"') },
      ],
    });
    expect(await counts()).toEqual({ users: 1, behaviours: 1 });
  });

  it('caps the errors and says how many more there were', async () => {
    const text = Array.from({ length: 12 }, (_, i) => b(`e-${i}`, 'u', { ts: 'x' })).join('\n');
    const r = await importData(repo, text, 'jsonl', { maxErrors: 5 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(6);
    expect(r.errors[5]).toEqual({ line: 6, reason: '…and 7 more errors from line 6 on (not shown)' });
    expect(await importData(repo, text, 'jsonl')).toMatchObject({ ok: false, errors: { length: 12 } });
  });

  it('applies a new name of an existing user, keeping its profile when the row has none', async () => {
    const text = JSON.stringify({ type: 'user', id: 'old', name: '李老师' });
    expect(await importData(repo, text, 'jsonl')).toEqual({
      ok: true,
      users: 1,
      behaviours: 0,
      createdUsers: 0,
    });
    expect(await repo.get('old')).toEqual({ id: 'old', name: '李老师', profile: { city: '北京' } });
  });

  it('parses a large body on a worker: every bad row listed, capped exactly, nothing written', async () => {
    const bad = new Set([7, 1500, 2999]);
    const text = bigFile(3000, (i) =>
      i === 10 ? b('old-1', 'x') : b(`big-${i}`, 'big', bad.has(i) ? { ts: '2026-13-01 10:00' } : {}),
    );
    expect(text.length).toBeGreaterThan(256 * 1024);
    const r = await importData(repo, new TextEncoder().encode(text), 'jsonl');
    expect(r).toEqual({
      ok: false,
      errors: [
        { line: 8, reason: 'ts "2026-13-01 10:00" is not a valid date' },
        { line: 11, reason: 'behaviour id old-1 already exists (user old)' },
        { line: 1501, reason: 'ts "2026-13-01 10:00" is not a valid date' },
        { line: 3000, reason: 'ts "2026-13-01 10:00" is not a valid date' },
      ],
    });
    expect(await counts()).toEqual({ users: 1, behaviours: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM imports').get()).toEqual({ n: 0 });

    const allBad = bigFile(3000, (i) => b(`big-${i}`, 'big', { ts: 'x' }));
    const capped = await importData(repo, allBad, 'jsonl', { maxErrors: 5 });
    expect(capped).toMatchObject({ ok: false, errors: { length: 6 } });
    if (!capped.ok) {
      expect(capped.errors[5]).toEqual({
        line: 6,
        reason: '…and 2995 more errors from line 6 on (not shown)',
      });
    }
  });

  it('discards what it wrote when an id taken in the database turns up late in a large import', async () => {
    const text = bigFile(3000, (i) => (i === 2500 ? b('old-1', 'big') : b(`big-${i}`, 'big')));
    expect(await importData(repo, text, 'jsonl')).toEqual({
      ok: false,
      errors: [{ line: 2501, reason: 'behaviour id old-1 already exists (user old)' }],
    });
    expect(await counts()).toEqual({ users: 1, behaviours: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM imports').get()).toEqual({ n: 0 });
  });

  it('writes a large import through the worker, all of it visible once done', async () => {
    expect(await importData(repo, bigFile(3000), 'jsonl')).toEqual({
      ok: true,
      users: 1,
      behaviours: 3000,
      createdUsers: 1,
    });
    expect(await repo.behaviours('big')).toHaveLength(3000);
    expect((await repo.behaviours('big'))[0]).toMatchObject({
      action: '看车',
      object: '小米SU7',
      detail: null,
    });
  });

  it('stops an import another process took over as stale, leaving nothing of it', async () => {
    const importing = importData(repo, bigFile(3000), 'jsonl');
    const staged = db.prepare('SELECT count(*) AS n FROM behaviours WHERE import_id IS NOT NULL');
    const deadline = Date.now() + 20_000;
    while ((staged.get() as { n: number }).n === 0) {
      if (Date.now() > deadline) throw new Error('no rows were staged within 20 s');
      await new Promise((r) => setImmediate(r));
    }
    // What another process does with an import whose heartbeat has gone quiet.
    db.prepare("UPDATE imports SET heartbeat_at = 0 WHERE state = 'staging'").run();
    repo.imports.sweepStep(1);
    await expect(importing).rejects.toThrow(ImportLostError);
    expect(await counts()).toEqual({ users: 1, behaviours: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM imports').get()).toEqual({ n: 0 });
  });
});
