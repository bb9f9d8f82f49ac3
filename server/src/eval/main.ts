import { evalCommand, EvalUsageError } from './eval-cli.js';

// `npm run eval -- …`: see EVAL_USAGE in eval-cli.ts.
evalCommand(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).then(
  ({ code }) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof EvalUsageError ? err.message : String((err as Error)?.stack ?? err)}\n`,
    );
    process.exitCode = err instanceof EvalUsageError ? 2 : 1;
  },
);
