import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from '@playwright/test';
import { RestClient } from './rest-client';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => ok(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The real server (`node --import tsx server/src/main.ts`) on its own port and temp database, serving
 * web/build. It can be killed (SIGKILL, like a crash) and started again on the same port and data.
 */
export class TestServer extends RestClient {
  readonly dir: string;
  private proc: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    super();
    this.dir = mkdtempSync(join(tmpdir(), 'es-e2e-'));
  }

  static async create(env: Record<string, string> = {}): Promise<TestServer> {
    return new TestServer(await freePort(), env);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and waits (bounded) until /api/v1/health answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.proc) throw new Error('server already running');
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATABASE_PATH: join(this.dir, 'app.db'),
        WEB_BUILD_DIR: join(ROOT, 'web/build'),
        LOG_LEVEL: 'warn',
        BUILTIN_PIECES_PER_SECOND: '60',
        BUILTIN_FIRST_PIECE_MS: '200',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const keep = (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${this.log}`);
      try {
        const res = await fetch(`${this.url}/api/v1/health`, {
          headers: this.authHeaders(),
          signal: AbortSignal.timeout(1000),
        });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(150);
    }
    throw new Error(`server did not answer within ${timeoutMs} ms:\n${this.log}`);
  }

  /** Ends the process: SIGKILL (a crash: running runs stay `running` and come back interrupted) or SIGTERM. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
    proc.kill(signal);
    const timer = sleep(timeoutMs).then(() => 'timeout' as const);
    if ((await Promise.race([exited, timer])) === 'timeout') {
      proc.kill('SIGKILL');
      await exited;
    }
  }

  async dispose(): Promise<void> {
    await this.stop('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  get output(): string {
    return this.log;
  }

  /** Bearer token when the server was started with API_TOKEN. */
  override authHeaders(): Record<string, string> {
    return this.env.API_TOKEN ? { authorization: `Bearer ${this.env.API_TOKEN}` } : {};
  }
}

/**
 * Registers the spec's beforeAll/afterAll around one server: created with `env`, started before the
 * spec's tests and disposed after them. Returns the server (throws before beforeAll ran).
 */
export function useTestServer(env: Record<string, string> = {}): () => TestServer {
  let server: TestServer | undefined;
  test.beforeAll(async () => {
    server = await TestServer.create(env);
    await server.start();
  });
  test.afterAll(async () => {
    await server?.dispose();
  });
  return () => {
    if (!server) throw new Error('the test server is not created yet (use it inside a test or hook)');
    return server;
  };
}
