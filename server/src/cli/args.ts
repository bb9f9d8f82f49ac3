import { parseArgs } from 'node:util';

/** A failure the CLI reports as one line on stderr, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const USAGE = `Usage:
  npm run cli -- extract <userId>                    stream one run; Ctrl-C cancels it
  npm run cli -- watch <runId> [--after n]           re-attach to a run until it settles
  npm run cli -- batch <userId>… [--concurrency 3]   run several users, one line per run

Options:
  --url <ws-url>    WebSocket endpoint (default ws://127.0.0.1:$PORT/api/v1/ws, PORT default 8000)
  --token <token>   API token (default $API_TOKEN), sent as Authorization: Bearer
  --json            print raw frames as JSON lines on stdout
  -h, --help        this help`;

/** Parsed command line. */
export interface CliOptions {
  command: 'extract' | 'watch' | 'batch';
  args: string[];
  url: string;
  token: string | undefined;
  json: boolean;
  after: number;
  concurrency: number;
}

const count = (raw: string | undefined, name: string, def: number, min: number): number => {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new CliError(`--${name} must be an integer ≥ ${min}, got "${raw}".`, 2);
  return Number(raw);
};

/** Parses argv (without node and script); `help` when asked for usage. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        after: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return 'help';
  const [command, ...args] = positionals;
  if (command !== 'extract' && command !== 'watch' && command !== 'batch') {
    throw new CliError(command ? `Unknown command "${command}".\n\n${USAGE}` : USAGE, 2);
  }
  const wanted = { extract: [1, 1], watch: [1, 1], batch: [1, Infinity] }[command];
  if (args.length < wanted[0]! || args.length > wanted[1]!) {
    throw new CliError(
      `${command} takes ${command === 'batch' ? 'one or more user ids' : 'one id'}.\n\n${USAGE}`,
      2,
    );
  }
  const url = v.url ?? `ws://127.0.0.1:${env.PORT || 8000}/api/v1/ws`;
  if (!/^wss?:\/\/[^/]+/.test(url))
    throw new CliError(`--url must be a ws:// or wss:// URL, got "${url}".`, 2);
  return {
    command,
    args,
    url,
    token: v.token ?? (env.API_TOKEN || undefined),
    json: v.json,
    after: count(v.after, 'after', 0, 0),
    concurrency: count(v.concurrency, 'concurrency', 3, 1),
  };
}
