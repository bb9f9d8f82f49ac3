import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPgBin, INSTALL_HINT } from './find-binary.js';
import { freePort, waitForPortClosed } from './free-port.js';
import { runCommand } from './run-command.js';
import { spawnTethered, type TetheredProcess } from './tethered-process.js';

export interface PgServer {
  readonly port: number;
  /** Its temp folder: data in `data/`, the Unix socket beside it (removed by stop()). */
  readonly dir: string;
  /** `postgres://app@127.0.0.1:PORT/NAME`; the default database is `postgres`. */
  url(dbName?: string): string;
  /** Creates a database (a fresh random name by default) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server for good and removes its folder; resolves once the port is closed. */
  stop(): Promise<void>;
  /** Stops it (fast shutdown) and starts it again on the same port, data kept, like a real restart. */
  restart(): Promise<void>;
  /** Stops it (the port closes) until up(): to see what clients do while PostgreSQL is gone. */
  down(): Promise<void>;
  /** Starts it again after down(), on the same port, with its data. */
  up(): Promise<void>;
}

const USER = 'app';
const INITDB_ARGS = ['-A', 'trust', '-U', USER, '-E', 'UTF8', '--locale=C', '--no-sync'];
// Durability is worth nothing in a server that is thrown away; these make it fast.
const SERVER_ARGS = ['fsync=off', 'full_page_writes=off', 'max_connections=200'].flatMap((c) => ['-c', c]);

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
const runAs = (): string | undefined => (process.getuid?.() === 0 ? 'postgres' : undefined);

const asUser = (cmd: string, args: string[]): [string, string[]] => {
  const user = runAs();
  return user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];
};

/** A temp folder the server's user owns. */
async function ownedTempDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(prefix);
  const user = runAs();
  if (user) await runCommand('chown', [`${user}:`, dir]);
  return dir;
}

/**
 * One initdb'd data folder per machine, user and PostgreSQL version, copied for each server (about 1 s
 * saved per start). Built aside and renamed into place, so concurrent test processes never see half of one.
 */
async function templateData(bin: string): Promise<string> {
  const key = createHash('sha256')
    .update([bin, process.getuid?.() ?? '', ...INITDB_ARGS].join('\0'))
    .digest('hex')
    .slice(0, 12);
  const final = join(tmpdir(), `es-pg-template-${key}`);
  if (existsSync(join(final, 'data', 'PG_VERSION'))) return join(final, 'data');
  const staging = await ownedTempDir(`${final}-`);
  try {
    const [cmd, args] = asUser(join(bin, 'initdb'), ['-D', join(staging, 'data'), ...INITDB_ARGS]);
    await runCommand(cmd, args, { cwd: staging, ms: 60_000 });
    renameSync(staging, final);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    // Another process finished first: use its template.
    if (!existsSync(join(final, 'data', 'PG_VERSION'))) throw err;
  }
  return join(final, 'data');
}

let template: Promise<string> | null = null;

/**
 * A throwaway PostgreSQL on a free loopback port, user `app` without password (trust), data in a
 * temp folder. It dies with the test process even when stop() is never called.
 */
export async function startPostgres(): Promise<PgServer> {
  const bin = findPgBin();
  if (!bin)
    throw new Error(`PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin): ${INSTALL_HINT}.`);
  template ??= templateData(bin).catch((err: unknown) => {
    template = null;
    throw err;
  });
  const source = await template;
  const dir = await ownedTempDir(join(tmpdir(), 'es-pg-'));
  const data = join(dir, 'data');
  let port = 0;
  let proc: TetheredProcess | null = null;

  const launch = () => {
    return spawnTethered({
      name: `postgres on port ${port}`,
      command: join(bin, 'postgres'),
      args: ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', ...SERVER_ARGS],
      runAs: runAs(),
      cwd: dir,
      // SIGINT is PostgreSQL's fast shutdown; the tether escalates to SIGQUIT (immediate) if it hangs.
      stopSignal: 'INT',
      orphanDir: dir,
      ready: /database system is ready to accept connections/,
    });
  };
  const down = async () => {
    if (!proc) return;
    await proc.stop();
    proc = null;
    await waitForPortClosed(port);
  };
  const up = async () => {
    if (!proc) proc = await launch();
  };

  try {
    // cp -a keeps the postgres user's ownership of the files.
    await runCommand('cp', ['-a', source, data]);
    // Another process may take the free port before postgres binds it: try a few.
    for (let attempt = 1; !proc; attempt++) {
      port = await freePort();
      try {
        proc = await launch();
      } catch (err) {
        if (attempt >= 3 || !/in use/i.test(String(err))) throw err;
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const url = (db = 'postgres') => `postgres://${USER}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  return {
    port,
    dir,
    url,
    createDatabase: async (name = `db_${randomBytes(4).toString('hex')}`) => {
      await runCommand(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', USER, name]);
      return url(name);
    },
    down,
    up,
    restart: async () => {
      await down();
      await up();
    },
    stop: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
