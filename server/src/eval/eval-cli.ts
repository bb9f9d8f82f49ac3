import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { USER_ID_RE } from '@app/shared';
import type { Env } from '../config.js';
import { SYSTEM_PROMPT } from '../llm/prompt.js';
import { REPO_ROOT, startServer } from '../start-server.js';
import { formatReport } from './report.js';
import { DEFAULT_EVAL_USERS, runEval, type EvalReport } from './run-eval.js';

export const EVAL_USAGE = `Usage: npm run eval -- [options]

Runs the extraction for each user against the configured model and scores the final events against
the built-in reference extraction of the user's whole history.

Options:
  --users a,b,c      users to evaluate (default ${DEFAULT_EVAL_USERS.join(',')})
  --base-url <url>   a running server to use (default: start one here on a temporary database with the
                     demo data and the model of OPENAI_BASE_URL / OPENAI_API_KEY / LLM_MODEL, else built-in)
  --token <token>    API token of that server (default $API_TOKEN)
  --out <file.json>  where to write the report (default eval/results/eval-<time>.json)
  --concurrency <n>  users run at once (default 1)
  --timeout <s>      longest wait for one user's run, seconds (default 1800)
  -h, --help         this help`;

/** Parsed options of `npm run eval`. */
export interface EvalCliOptions {
  users: string[];
  baseUrl: string | null;
  token: string | undefined;
  out: string;
  concurrency: number;
  timeoutMs: number;
}

/** A command-line mistake: the message and exit status 2. */
export class EvalUsageError extends Error {}

const positive = (raw: string | undefined, name: string, def: number): number => {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new EvalUsageError(`--${name} must be an integer ≥ 1, got "${raw}".`);
  return Number(raw);
};

/** Parses argv (without node and script); `help` when asked for usage. */
export function parseEvalArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
  now = new Date(),
): EvalCliOptions | 'help' {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        users: { type: 'string' },
        'base-url': { type: 'string' },
        token: { type: 'string' },
        out: { type: 'string' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    throw new EvalUsageError(`${(err as Error).message}\n\n${EVAL_USAGE}`);
  }
  if (values.help) return 'help';
  const users =
    values.users === undefined ? [...DEFAULT_EVAL_USERS] : values.users.split(',').map((u) => u.trim());
  const bad = users.filter((u) => !USER_ID_RE.test(u));
  if (users.length === 0 || bad.length > 0)
    throw new EvalUsageError(
      `--users takes user ids separated by commas; not a user id: "${bad.join('", "')}".`,
    );
  const baseUrl = values['base-url'] ?? null;
  if (baseUrl !== null && !/^https?:\/\/[^/]+/.test(baseUrl))
    throw new EvalUsageError(`--base-url must be an http:// or https:// URL, got "${baseUrl}".`);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  // npm runs the script in server/; a path the person typed is meant from where they typed it.
  const out = values.out
    ? resolve(env.INIT_CWD ?? process.cwd(), values.out)
    : join(REPO_ROOT, 'eval', 'results', `eval-${stamp}.json`);
  return {
    users,
    baseUrl,
    token: values.token ?? (env.API_TOKEN || undefined),
    out,
    concurrency: positive(values.concurrency, 'concurrency', 1),
    timeoutMs: positive(values.timeout, 'timeout', 1800) * 1000,
  };
}

/** A server here on a temporary database: demo data, the configured model, the built-in one at full speed. */
async function localServer(env: NodeJS.ProcessEnv) {
  const dir = mkdtempSync(join(tmpdir(), 'es-eval-'));
  const overrides: Partial<Env> = {
    PORT: 0,
    HOST: '127.0.0.1',
    DATABASE_PATH: join(dir, 'eval.db'),
    DEMO_DATA: 'on',
    WEB_BUILD_DIR: join(dir, 'no-ui'),
    BUILTIN_PIECES_PER_SECOND: 0,
    BUILTIN_FIRST_PIECE_MS: 0,
    MAX_RUNNING_RUNS_PER_CLIENT: 0,
    UNWATCHED_RUN_TIMEOUT_S: 0,
  };
  if (!env.LOG_LEVEL) overrides.LOG_LEVEL = 'warn';
  const server = await startServer({ env, overrides });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `npm run eval`: evaluates, prints the table, writes the JSON report; resolves to the exit status. */
export async function evalCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  print: (line: string) => void,
): Promise<{ code: number; report: EvalReport | null }> {
  const opts = parseEvalArgs(argv, env);
  if (opts === 'help') {
    print(EVAL_USAGE);
    return { code: 0, report: null };
  }
  const local = opts.baseUrl === null ? await localServer(env) : null;
  try {
    const report = await runEval({
      baseUrl: opts.baseUrl ?? local!.url,
      users: opts.users,
      token: opts.token,
      concurrency: opts.concurrency,
      timeoutMs: opts.timeoutMs,
      onResult: (u) => print(`${u.userId}: ${u.status}${u.score ? `, F1 ${u.score.f1.toFixed(3)}` : ''}`),
    });
    // The prompt is known only for a server started here from this checkout.
    const prompt = local ? { systemSha256: createHash('sha256').update(SYSTEM_PROMPT).digest('hex') } : null;
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify({ ...report, prompt }, null, 2)}\n`);
    print('');
    print(formatReport(report));
    print(`\nwritten to ${opts.out}`);
    return { code: report.totals.failed > 0 ? 1 : 0, report };
  } finally {
    await local?.close();
  }
}
