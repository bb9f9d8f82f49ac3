import { CliError, parseCli, USAGE } from './args.js';
import { batch } from './batch.js';
import { connect, superviseConnection } from './connect.js';
import { extract } from './extract.js';
import { RunTracker } from './run-tracker.js';
import { say, type Session } from './session.js';
import { watch } from './watch.js';

/** Exits once stdout has taken everything written to it. */
const exit = (code: number): void => void process.stdout.write('', () => process.exit(code));

async function main(argv: string[]): Promise<number> {
  const opts = parseCli(argv, process.env);
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const client = await connect(opts.url, opts.token);
  superviseConnection(client, (err) => {
    say(`error: ${err.message}`);
    exit(1);
  });
  const session: Session = { opts, client, tracker: new RunTracker(client) };
  try {
    switch (opts.command) {
      case 'extract':
        return await extract(session);
      case 'watch':
        return await watch(session);
      case 'batch':
        return await batch(session);
      default: {
        const _: never = opts.command;
        return _;
      }
    }
  } finally {
    client.close();
  }
}

// A reader that went away (`| head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  // Expected failures are one line; anything else is a bug, reported with its message only.
  say(
    err instanceof CliError
      ? err.exitCode === 2
        ? err.message
        : `error: ${err.message}`
      : `error: ${String((err as Error)?.message ?? err)}`,
  );
  exit(err instanceof CliError ? err.exitCode : 1);
});
