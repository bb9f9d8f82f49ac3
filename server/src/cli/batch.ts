import { randomUUID } from 'node:crypto';
import { ClientError, type RunView } from '@app/shared/client';
import { framePrinter } from './output.js';
import { onInterrupt, say, type Session } from './session.js';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** One result line: user, run, status, events, duration. */
const line = (user: string, runId: string, v: RunView) =>
  `${user}\t${runId}\t${v.status}\t${v.events.length} events\t${(v.durationMs / 1000).toFixed(1)} s`;

/** `batch <userId>… [--concurrency n]`: runs users with a concurrency limit; exit 0 only if all are done. */
export async function batch({ opts, client, tracker }: Session): Promise<number> {
  const users = opts.args;
  const active = new Set<string>();
  // With --json stdout carries frames only, so the result lines move to stderr.
  const out = (s: string): void => {
    if (opts.json) say(s);
    else process.stdout.write(`${s}\n`);
  };
  const ctrlC = onInterrupt(() => {
    say(`\n… cancelling ${active.size} running run(s) (Ctrl-C again to quit at once)`);
    for (const id of active) client.cancel(id).catch(() => {});
  });
  let next = 0;
  let done = 0;

  const runOne = async (user: string): Promise<void> => {
    let runId: string;
    // One key per intended run: a start lost with a dropped connection is re-sent, never run twice.
    const key = randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        runId = await client.start(user, key);
        break;
      } catch (err) {
        // The server caps runs per socket; wait for a slot rather than fail.
        if (err instanceof ClientError && err.code === 'too_many_runs' && attempt < 40) await sleep(250);
        else return out(`${user}\t-\terror\t${(err as Error).message}`);
      }
    }
    active.add(runId);
    if (ctrlC.pressed()) void client.cancel(runId).catch(() => {});
    const view = await tracker.follow(runId, opts.json ? framePrinter(true) : () => {});
    active.delete(runId);
    void client.unwatch(runId).catch(() => {});
    if (view.status === 'done') done++;
    out(line(user, runId, view));
  };
  const worker = async () => {
    while (!ctrlC.pressed() && next < users.length) await runOne(users[next++]!);
  };

  const workers = Promise.all(Array.from({ length: Math.min(opts.concurrency, users.length) }, worker));
  await Promise.race([workers, ctrlC.deadline]);
  say(`${done}/${users.length} done`);
  if (ctrlC.pressed()) return 130;
  return done === users.length ? 0 : 1;
}
