import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../start-server.js';
import { deadline } from './test-server.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  url: string;
  pid: number;
  dbPath: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Sends `signal` to the server's whole process group, as systemd, Docker and a terminal do. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Everything the process wrote so far (its JSON log lines). */
  output(): string;
  /** Kills the group if it still runs and removes the database. */
  dispose(): Promise<void>;
}

/**
 * The real server (`node --import tsx server/src/main.ts`, or `node <entry>` for a build) as a child
 * process leading its own process group, on port 0 with a temp database; resolves once it logged the
 * URL it listens on.
 */
export async function spawnServer(
  env: Record<string, string> = {},
  opts: { entry?: string; ms?: number } = {},
): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'es-proc-'));
  const dbPath = join(dir, 'app.db');
  const args = opts.entry ? [opts.entry] : ['--import', 'tsx', 'server/src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    // detached: the child calls setsid(), so its pid is also its process group id.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_PATH: dbPath,
      WEB_BUILD_DIR: '/nonexistent',
      LOG_LEVEL: 'info',
      API_TOKEN: '',
      OPENAI_BASE_URL: '',
      ...env,
    },
  });
  let out = '';
  const listeners = new Set<() => void>();
  const keep = (b: Buffer) => {
    out += b.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<Exit>((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const signalGroup = (signal: NodeJS.Signals) => process.kill(-child.pid!, signal);
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        signalGroup('SIGKILL');
      } catch {
        // already gone
      }
      await deadline(exited, 5000, 'killed server exit').catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const listening = new Promise<string>((ok, fail) => {
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        listeners.delete(check);
        ok(m[1]!);
      }
    };
    listeners.add(check);
    void exited.then((e) =>
      fail(new Error(`server exited (${e.code ?? e.signal}) before listening:\n${out}`)),
    );
  });
  try {
    const url = await deadline(listening, opts.ms ?? 20_000, 'the server process to listen');
    return { url, pid: child.pid!, dbPath, exited, signalGroup, output: () => out, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
