import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/open-database.js';
import { UsersRepo } from '../db/users-repo.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'import-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI as `npm run import` would, from `dir`, with a 20 s deadline. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/data/import-cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, INIT_CWD: dir, DATABASE_PATH: join(dir, 'db', 'app.db') },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.error).toBeUndefined();
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('import CLI', () => {
  writeFileSync(
    join(dir, 'good.jsonl'),
    [
      JSON.stringify({ type: 'user', id: 'u1', name: '张先生' }),
      JSON.stringify({
        id: 'g1',
        user_id: 'u1',
        ts: '2026-01-05 10:00',
        action: '看车',
        object: 'X',
        channel: 'store',
      }),
      JSON.stringify({
        id: 'g2',
        user_id: 'u2',
        ts: '2026-01-05 10:10',
        action: '试驾',
        object: 'X',
        channel: 'store',
      }),
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'bad.csv'),
    'id,user_id,ts,action,object,channel\nb1,u1,2026-01-05 10:00,看车,X,app\nb2,u 1,2026-13-01 10:00,看车,X,app\n',
  );
  writeFileSync(
    join(dir, 'data.txt'),
    'id,user_id,ts,action,object,channel\nc1,u3,2026-01-06 10:00,询价,X,phone\n',
  );

  it('imports a good file (path relative to INIT_CWD) and exits 0', async () => {
    const r = cli('good.jsonl');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Imported 2 behaviours and 2 users (1 created');
    const db = openDatabase(join(dir, 'db', 'app.db'));
    expect((await new UsersRepo(db).behaviours('u2')).map((b) => b.id)).toEqual(['g2']);
    db.close();
  });

  it('prints every error with its line and exits 1 on bad data, writing nothing', async () => {
    const r = cli('bad.csv');
    expect(r.code).toBe(1);
    expect(r.err).toContain('line 3: user id "u 1" may only contain');
    expect(r.err).toContain('ts "2026-13-01 10:00" is not a valid date');
    expect(r.err).toContain('nothing was written');
    expect(cli('good.jsonl')).toMatchObject({
      code: 1,
      err: expect.stringContaining('line 2: behaviour id g1 already exists'),
    });
    const db = openDatabase(join(dir, 'db', 'app.db'));
    expect(await new UsersRepo(db).behaviourOwnerOf('b1')).toBeNull();
    db.close();
  });

  it('exits 2 on usage errors and honours --format', async () => {
    expect(cli()).toMatchObject({ code: 2, err: expect.stringContaining('usage:') });
    expect(cli('missing.jsonl')).toMatchObject({ code: 2, err: expect.stringContaining('cannot read') });
    expect(cli('good.jsonl', '--format', 'xml')).toMatchObject({ code: 2 });
    writeFileSync(join(dir, 'odd.txt'), 'hello');
    expect(cli('odd.txt')).toMatchObject({ code: 2, err: expect.stringContaining('--format') });
    expect(cli('data.txt', '--format=csv')).toMatchObject({ code: 0 });
  });
});
