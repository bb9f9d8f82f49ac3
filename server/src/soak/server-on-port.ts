import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { REPO_ROOT } from '../start-server.js';
import { deadline } from '../test-support/test-server.js';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => ok(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * Compiles the server as `npm start` runs it, into a folder of its own (so nothing else's build is
 * touched) under node_modules, where the bundle still finds its native packages. Returns the entry.
 */
export function buildServerOnce(): string {
  const out = join(REPO_ROOT, 'node_modules/.cache/event-stream/soak-server');
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "(await import('./scripts/build-server.mjs')).buildServer(process.argv[1])",
      out,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`building the server failed:\n${r.stderr}`);
  return join(out, 'main.js');
}

/**
 * The real server as a child process on a fixed port and database, so it can be killed like a crash
 * and started again where clients expect it.
 */
export class ServerOnPort {
  private proc: ChildProcess | null = null;
  private out = '';

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    /** A compiled entry (see {@link buildServerOnce}); the sources through tsx when unset. */
    private readonly entry?: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process; resolves once it listens. */
  async start(ms = 30_000): Promise<void> {
    const args = this.entry ? [this.entry] : ['--import', 'tsx', 'server/src/main.ts'];
    const proc = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(this.port),
        WEB_BUILD_DIR: '/nonexistent',
        API_TOKEN: '',
        OPENAI_BASE_URL: '',
        LOG_LEVEL: 'info',
        ...this.env,
      },
    });
    this.proc = proc;
    this.out = '';
    const listening = new Promise<void>((ok, fail) => {
      const onData = (b: Buffer) => {
        this.out += b.toString('utf8');
        if (this.out.includes('"url":"http')) ok();
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code, signal) =>
        fail(new Error(`server exited (${code ?? signal}) before listening:\n${this.out}`)),
      );
    });
    await deadline(listening, ms, `the server on port ${this.port} to listen`);
  }

  /** SIGKILL: no shutdown code runs, as in a crash or a lost machine. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((ok) => proc.once('exit', ok));
    proc.kill('SIGKILL');
    await deadline(exited, 5000, 'the killed server to exit');
  }

  /** SIGTERM and wait for the clean exit. */
  async stop(ms = 15_000): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((ok) => proc.once('exit', ok));
    proc.kill('SIGTERM');
    await deadline(exited, ms, 'the server to stop');
  }

  get output(): string {
    return this.out;
  }

  /** The running process's pid (for /proc readings), if it runs. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }
}
