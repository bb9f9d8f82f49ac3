import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline, startTestServer, type TestServer } from '../../server/src/test-support/test-server.js';

/** Debian's interpreter: the `python3` on PATH may be another one, without Debian's python3-websockets. */
const PYTHON = '/usr/bin/python3';
const DIR = fileURLToPath(new URL('.', import.meta.url));
const hasPython = spawnSync(PYTHON, ['-c', 'pass']).status === 0;
const hasWebsockets = hasPython && spawnSync(PYTHON, ['-c', 'import websockets']).status === 0;
if (!hasWebsockets)
  console.warn(
    `skipping the Python WebSocket example: ${PYTHON} ${hasPython ? 'lacks' : 'is missing, and with it'} ` +
      'python3-websockets (apt-get install python3-websockets; `npm run test:unit` installs it).',
  );

/** Runs an example against the server; resolves its exit code and everything it printed. */
function runExample(script: string, baseUrl: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(PYTHON, [script], {
    cwd: DIR,
    env: { ...process.env, BASE_URL: baseUrl, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; out: string }>((ok) =>
    child.once('exit', (code) => ok({ code, out })),
  );
  return deadline(exited, 60_000, `${script} to finish`).finally(() => child.kill('SIGKILL'));
}

describe('the Python examples, against a real server', () => {
  let s: TestServer;
  beforeAll(async () => {
    // The built-in model at a pace where a cancel lands mid-generation.
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 60, BUILTIN_FIRST_PIECE_MS: 50 });
  });
  afterAll(() => s.dispose());

  it.runIf(hasPython)(
    'sse_client.py streams a run with http.client and its checks pass',
    async () => {
      const r = await runExample('sse_client.py', s.url);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('ok: the streamed text equals the stored text');
      expect(r.out).toMatch(/ok: Last-Event-ID: \d+ replays exactly the frames after it/);
    },
    90_000,
  );

  it.runIf(hasWebsockets)(
    'ws_client.py starts, cancels, resumes, re-subscribes after a close, and checks',
    async () => {
      const r = await runExample('ws_client.py', s.url);
      expect(r.code, r.out).toBe(0);
      for (const step of [
        'ok: cancel mid-generation ends the run cancelled',
        'ok: re-subscribed from the last seq',
        'ok: every frame once, in order, no gap',
        'ok: the text received',
      ])
        expect(r.out).toContain(step);
    },
  );

  it.runIf(hasPython)(
    'an example exits non-zero when the server is not there',
    async () => {
      const r = await runExample('sse_client.py', 'http://127.0.0.1:9');
      expect(r.code).not.toBe(0);
    },
    90_000,
  );
});
