import { RUN_ID_RE } from '@app/shared';
import { CliError } from './args.js';
import { exitCodeOf, framePrinter, summaryLine } from './output.js';
import { asCliError, onInterrupt, say, type Session } from './session.js';

/** `watch <runId> [--after n]`: re-attaches and streams until the run settles; Ctrl-C only detaches. */
export async function watch({ opts, client, tracker }: Session): Promise<number> {
  const runId = opts.args[0]!;
  if (!RUN_ID_RE.test(runId))
    throw new CliError(`"${runId}" is not a run id (they look like run_xxxxxxxx).`, 2);
  onInterrupt(() => {
    say('\n… detached; the run goes on on the server');
    process.exit(130);
  });
  const info = await client.watch(runId, opts.after).catch((err: unknown) => Promise.reject(asCliError(err)));
  if (info.status !== 'running' && info.lastSeq <= opts.after) {
    say(`run ${runId} is ${info.status}; nothing after seq ${opts.after} (last seq ${info.lastSeq})`);
    return info.status === 'done' ? 0 : 1;
  }
  const view = await tracker.follow(runId, framePrinter(opts.json), info.lastSeq);
  say(summaryLine(view));
  return exitCodeOf(view);
}
