import { randomUUID } from 'node:crypto';
import { ClientError, type RunView } from '@app/shared/client';
import { exitCodeOf, framePrinter, summaryLine } from './output.js';
import { asCliError, onInterrupt, say, type Session } from './session.js';

/** `extract <userId>`: starts a run and streams it; the first Ctrl-C cancels it and exits 130. */
export async function extract({ opts, client, tracker }: Session): Promise<number> {
  const userId = opts.args[0]!;
  let runId: string | null = null;
  const cancel = (id: string) =>
    client.cancel(id).catch((err: unknown) => {
      // run_not_running: it ended on its own meanwhile, which is fine.
      if (!(err instanceof ClientError && err.code === 'run_not_running'))
        say(`… cancel failed: ${(err as Error).message}`);
    });
  const ctrlC = onInterrupt(() => {
    say('\n… cancelling (Ctrl-C again to quit at once)');
    if (runId) void cancel(runId);
  });

  const id = await client
    .start(userId, randomUUID())
    .catch((err: unknown) => Promise.reject(asCliError(err)));
  runId = id;
  if (ctrlC.pressed()) void cancel(id);
  const settled = tracker.follow(id, framePrinter(opts.json));
  const view: RunView | null = await Promise.race([settled, ctrlC.deadline.then(() => null)]);

  if (ctrlC.pressed()) {
    say(
      view ? summaryLine(view) : `… no cancelled frame within the deadline; run ${id} may still be running`,
    );
    return 130;
  }
  say(summaryLine(view!));
  if (view!.status !== 'done') say(`run ${id}; continue it with the UI or POST /api/v1/runs/${id}/resume`);
  return exitCodeOf(view!);
}
