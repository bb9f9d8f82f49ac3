import type { StreamClient } from '@app/shared/client';
import { ClientError } from '@app/shared/client';
import { CliError, type CliOptions } from './args.js';
import { RunTracker } from './run-tracker.js';

/** What every command gets: the options, a connected client and the per-run views. */
export interface Session {
  opts: CliOptions;
  client: StreamClient;
  tracker: RunTracker;
}

/** How long a command waits for runs to end after the first Ctrl-C. */
export const CANCEL_DEADLINE_MS = 3_000;
/** Nested npm/tsx wrappers each forward the terminal's SIGINT: repeats this close are the same press. */
const SAME_PRESS_MS = 500;

export const say = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Ctrl-C handling: the first press calls `first` and starts the cancel deadline; a second press exits
 * at once with 130. `deadline` resolves CANCEL_DEADLINE_MS after the first press (never otherwise).
 */
export function onInterrupt(first: () => void): { pressed: () => boolean; deadline: Promise<void> } {
  let firstAt = 0;
  let startDeadline!: () => void;
  const deadline = new Promise<void>((resolve) => {
    startDeadline = () => setTimeout(resolve, CANCEL_DEADLINE_MS);
  });
  process.on('SIGINT', () => {
    const now = Date.now();
    if (firstAt === 0) {
      firstAt = now;
      startDeadline();
      first();
    } else if (now - firstAt > SAME_PRESS_MS) {
      say('… interrupted again: exiting now');
      process.exit(130);
    }
  });
  return { pressed: () => firstAt !== 0, deadline };
}

/** A server refusal as a CliError (its message is already written for people). */
export function asCliError(err: unknown): unknown {
  return err instanceof ClientError ? new CliError(err.message) : err;
}
