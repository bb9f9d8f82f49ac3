import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '@app/shared';
import type { ClosedEvent } from '../model/index.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { REPO_ROOT } from '../start-server.js';

interface CliRun {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout has at least `n` characters. */
  stdoutReaches(n: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
}

/** Spawns the real CLI as a user would, against the test server. */
function cli(s: TestServer, args: string[], env: Record<string, string> = {}): CliRun {
  const url = `${s.url.replace(/^http/, 'ws')}/api/v1/ws`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/src/cli/main.ts', ...args, '--url', url],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, API_TOKEN: '', ...env },
    },
  );
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of watchers) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return {
    code: new Promise((ok) => child.on('exit', (c) => ok(c))),
    stdout: () => out,
    stderr: () => err,
    stdoutReaches: (n) =>
      new Promise((ok) => {
        const check = () => out.length >= n && (watchers.delete(check), ok());
        watchers.add(check);
        check();
      }),
    signal: (sig) => child.kill(sig),
  };
}

const runIdIn = (stderr: string) => /\b(run_[A-Za-z0-9]+)\b/.exec(stderr)?.[1] ?? '';
const getRun = async (s: TestServer, id: string) =>
  (await (await fetch(`${s.url}/api/v1/runs/${id}`)).json()) as RunDetail;

describe('the CLI against the real server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.dispose());

  it('extract streams the text to stdout, a summary to stderr, and exits 0', async () => {
    const r = cli(s, ['extract', 'user_0007']);
    expect(await deadline(r.code, 15_000, 'extract to exit')).toBe(0);
    const stored = await getRun(s, runIdIn(r.stderr()));
    expect(stored.status).toBe('done');
    expect(r.stdout()).toBe(stored.text);
    expect(r.stderr()).toMatch(
      new RegExp(`done · ${stored.events.length} events · 0 rejected · \\d+ tokens`),
    );
  });

  it('--json prints every frame as a JSON line', async () => {
    const r = cli(s, ['extract', 'user_0002', '--json']);
    expect(await deadline(r.code, 15_000, 'extract --json to exit')).toBe(0);
    const frames = r
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(frames.at(-1)!.type).toBe('done');
  });

  it('batch of 3 users with concurrency 2: one line per run, never more than 2 at once, exit 0', async () => {
    let inFlight = 0;
    let most = 0;
    const onRequest = () => (most = Math.max(most, ++inFlight));
    const onClosed = () => inFlight--;
    s.builtin!.events.on('request', onRequest).on('closed', onClosed);
    try {
      const r = cli(s, ['batch', 'user_0001', 'user_0002', 'user_0003', '--concurrency', '2']);
      expect(await deadline(r.code, 20_000, 'batch to exit')).toBe(0);
      const lines = r.stdout().trim().split('\n');
      expect(lines).toHaveLength(3);
      for (const l of lines) expect(l).toMatch(/^user_000[123]\trun_\w+\tdone\t\d+ events\t\d+\.\d s$/);
      expect(most).toBe(2);
      expect(r.stderr()).toContain('3/3 done');
    } finally {
      s.builtin!.events.off('request', onRequest).off('closed', onClosed);
    }
  });

  it('batch exits 1 when a run cannot start', async () => {
    const r = cli(s, ['batch', 'user_0001', 'user_9999']);
    expect(await deadline(r.code, 20_000, 'batch to exit')).toBe(1);
    expect(r.stdout()).toMatch(/user_9999\t-\terror\tNo user with id user_9999/);
  });

  it('Ctrl-C mid-stream cancels the run (the model stops) and exits 130', async () => {
    s.builtin!.setPace({ piecesPerSecond: 40, firstPieceDelayMs: 0 });
    try {
      const r = cli(s, ['extract', 'user_0007']);
      await deadline(r.stdoutReaches(40), 15_000, 'some streamed text');
      const closed = new Promise<ClosedEvent>((ok) => s.builtin!.events.once('closed', ok));
      r.signal('SIGINT');
      expect(await deadline(r.code, 5_000, 'exit after Ctrl-C')).toBe(130);
      expect((await deadline(closed, 2_000, 'the model closing')).byClient).toBe(true);
      const stored = await getRun(s, runIdIn(r.stderr()));
      expect(stored.status).toBe('cancelled');
      expect(r.stderr()).toMatch(/cancelling[\s\S]*cancelled · /);
      expect(stored.text.startsWith(r.stdout())).toBe(true);
    } finally {
      s.builtin!.setPace({ piecesPerSecond: 400, firstPieceDelayMs: 20 });
    }
  });

  it('watch re-attaches to a run and streams the rest', async () => {
    const res = await fetch(`${s.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'user_0003' }),
    });
    const { runId } = (await res.json()) as { runId: string };
    const r = cli(s, ['watch', runId]);
    expect(await deadline(r.code, 15_000, 'watch to exit')).toBe(0);
    expect(r.stdout()).toBe((await getRun(s, runId)).text);
  });

  it('clear one-line errors: unknown user, unknown run, server down, bad arguments', async () => {
    const unknownUser = cli(s, ['extract', 'user_9999']);
    expect(await deadline(unknownUser.code, 10_000, 'exit')).toBe(1);
    expect(unknownUser.stderr().trim()).toBe('error: No user with id user_9999.');
    const unknownRun = cli(s, ['watch', 'run_doesnotexist00']);
    expect(await deadline(unknownRun.code, 10_000, 'exit')).toBe(1);
    expect(unknownRun.stderr().trim()).toBe('error: No run with id run_doesnotexist00.');
    const down = await startTestServer();
    await down.dispose();
    const r = cli(down, ['extract', 'user_0001']);
    expect(await deadline(r.code, 10_000, 'exit')).toBe(1);
    expect(r.stderr().trim()).toMatch(/^error: Cannot connect to ws:\/\/.*: nothing is listening there/);
    expect(r.stderr()).not.toMatch(/\n\s+at /);
    const bad = cli(s, ['extract']);
    expect(await deadline(bad.code, 10_000, 'exit')).toBe(2);
    expect(bad.stderr()).toContain('Usage:');
  });
});
