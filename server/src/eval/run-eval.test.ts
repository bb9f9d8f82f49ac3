import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { evalCommand, EvalUsageError, parseEvalArgs } from './eval-cli.js';
import { runEval } from './run-eval.js';

describe('runEval against a real server with the built-in model', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 0, BUILTIN_FIRST_PIECE_MS: 0 });
  });
  afterAll(() => s.dispose());

  it('scores F1 = 1.0 for each short user: the built-in model is the reference', async () => {
    const users = ['user_0001', 'user_0002', 'user_0007'];
    const report = await deadline(runEval({ baseUrl: s.url, users }), 60_000, 'the evaluation');
    expect(report.model).toBe('builtin-rules-v1');
    expect(report.users.map((u) => u.userId)).toEqual(users);
    for (const u of report.users) {
      expect(u, u.userId).toMatchObject({ status: 'done', error: null, errorCode: null });
      expect(u.score, u.userId).toMatchObject({ precision: 1, recall: 1, f1: 1, cited: 1 });
      expect(u.score!.reference).toBeGreaterThan(0);
      expect(u.score!.rejected.total).toBe(0);
      expect(u.score!.grounded.share).toBe(1);
      expect(u.shown).toEqual({ included: u.behaviours, total: u.behaviours });
      expect(u.tokens!.totalTokens).toBeGreaterThan(0);
      expect(u.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(report.totals).toMatchObject({ users: 3, failed: 0, f1: 1, meanF1: 1, groundedShare: 1 });
  });

  it('scores a long history (user_0061, several prompt chunks) against the whole of it', async () => {
    const report = await deadline(
      runEval({ baseUrl: s.url, users: ['user_0061'] }),
      60_000,
      'the evaluation',
    );
    const [u] = report.users;
    expect(u).toMatchObject({ status: 'done', behaviours: 300, shown: { included: 300, total: 300 } });
    expect(u!.score).toMatchObject({ f1: 1, cited: 1, sources: { f1: 1 } });
  });

  it('scores a run that failed as finding nothing, and a user that does not exist as failed', async () => {
    s.builtin!.injectFault({ kind: 'status', status: 400 });
    const report = await deadline(
      runEval({ baseUrl: s.url, users: ['user_0003', 'nobody_1'] }),
      60_000,
      'the evaluation',
    );
    const [broken, missing] = report.users;
    expect(broken).toMatchObject({ status: 'error', score: { recall: 0, f1: 0, predicted: 0 } });
    expect(broken!.errorCode).toBeTruthy();
    expect(missing).toMatchObject({ status: 'failed', score: null });
    expect(missing!.error).toMatch(/404/);
    expect(report.totals).toMatchObject({ failed: 1, recall: 0 });
  });
});

describe('npm run eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-eval-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts its own server, prints the table and writes the JSON report', async () => {
    const out = join(dir, 'report.json');
    const lines: string[] = [];
    const { code } = await deadline(
      evalCommand(['--users', 'user_0002,user_0005', '--out', out], {}, (l) => lines.push(l)),
      90_000,
      'npm run eval',
    );
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      users: { userId: string; score: { f1: number } }[];
      prompt: { systemSha256: string };
    };
    expect(json.users.map((u) => [u.userId, u.score.f1])).toEqual([
      ['user_0002', 1],
      ['user_0005', 1],
    ]);
    expect(json.prompt.systemSha256).toMatch(/^[0-9a-f]{64}$/);
    const text = lines.join('\n');
    expect(text).toMatch(/^user_0005 .*1\.000/m);
    expect(text).toContain(`written to ${out}`);
  });

  it('parses its options and refuses bad ones with a sentence', () => {
    const now = new Date('2026-03-01T10:20:30.456Z');
    const defaults = parseEvalArgs([], { API_TOKEN: 'secret-token' }, now);
    expect(defaults).toMatchObject({
      baseUrl: null,
      token: 'secret-token',
      concurrency: 1,
      timeoutMs: 1_800_000,
    });
    expect(defaults !== 'help' && defaults.users).toEqual(expect.arrayContaining(['user_0061', 'user_0063']));
    expect(defaults !== 'help' && defaults.out).toMatch(
      /eval\/results\/eval-2026-03-01T10-20-30-456Z\.json$/,
    );
    const some = parseEvalArgs(['--users', 'a_1, b_2', '--out', 'x.json', '--base-url', 'http://h:1'], {
      INIT_CWD: '/somewhere',
    });
    expect(some).toMatchObject({ users: ['a_1', 'b_2'], out: '/somewhere/x.json', baseUrl: 'http://h:1' });
    expect(parseEvalArgs(['-h'], {})).toBe('help');
    expect(() => parseEvalArgs(['--users', 'a|b'], {})).toThrow(EvalUsageError);
    expect(() => parseEvalArgs(['--base-url', 'localhost:8000'], {})).toThrow(/http:\/\//);
    expect(() => parseEvalArgs(['--concurrency', '0'], {})).toThrow(/--concurrency/);
    expect(() => parseEvalArgs(['--nope'], {})).toThrow(EvalUsageError);
  });
});
