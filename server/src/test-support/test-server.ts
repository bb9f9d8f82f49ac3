import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../config.js';
import { startServer, type RunningServer } from '../start-server.js';

export interface TestServer extends RunningServer {
  dbPath: string;
  /** Stops the server and removes its database. */
  dispose(): Promise<void>;
}

/** A real server on port 0 with its own database file and the built-in model at a fast pace. */
export async function startTestServer(overrides: Partial<Env> = {}, dbPath?: string): Promise<TestServer> {
  const dir = dbPath ? null : mkdtempSync(join(tmpdir(), 'es-test-'));
  const path = dbPath ?? join(dir!, 'test.db');
  const s = await startServer({
    env: {},
    overrides: {
      PORT: 0,
      DATABASE_PATH: path,
      LOG_LEVEL: 'silent',
      BUILTIN_PIECES_PER_SECOND: 400,
      BUILTIN_FIRST_PIECE_MS: 20,
      UPSTREAM_RETRY_BASE_MS: 20,
      UPSTREAM_RETRY_MAX_MS: 200,
      WEB_BUILD_DIR: '/nonexistent',
      PROTOCOL_CHECK: 'on',
      ...overrides,
    },
  });
  return {
    ...s,
    dbPath: path,
    dispose: async () => {
      await s.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      const bad = s.ctx.protocolCheck?.violations ?? [];
      if (bad.length > 0)
        throw new Error(
          `the server sent ${bad.length} message(s) its schemas do not allow:\n${bad.join('\n')}`,
        );
    },
  };
}

/** Rejects after `ms` with a message naming what was awaited, so a hang fails fast. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
