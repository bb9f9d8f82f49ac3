import { setTimeout as sleep } from 'node:timers/promises';
import type { ImportSummary } from '@app/shared';
import type { ImportTarget, UsersStore } from '../store/types.js';
import { parseOffThread } from './import-off-thread.js';
import type { ImportError, ImportFormat } from './import-parser.js';
import { SLICE_ROWS, type ImportSlices } from './import-slices.js';

export { ImportBusyError } from '../db/import-staging.js';
export { detectFormat, parseImport, type ImportError, type ImportFormat } from './import-parser.js';

/**
 * `users` counts user rows written (from the file plus `createdUsers`, the ones made with an empty profile
 * because behaviours referenced them); `behaviours` counts behaviours inserted.
 */
/** What an import did: the REST answer's summary, or every bad row. */
export type ImportResult = ImportSummary | { ok: false; errors: ImportError[] };

/**
 * Validates a whole import, including against the database, then writes it. All or nothing: with any bad
 * row nothing is written and every error is returned (capped at `maxErrors`). Throws
 * {@link ImportBusyError} while another import of the database is being written.
 *
 * The event loop is never held for long (one transaction of 100,000 rows held it 3–4 s). The one SQLite
 * connection is shared with the frame writer, which commits every turn: a transaction held open across
 * turns would swallow those commits, and a worker with its own connection would make them wait on its
 * write lock, synchronously. So rows are parsed on a worker thread, written here one slice of
 * {@link SLICE_ROWS} per transaction (a few ms) with the loop left to others in between, and hidden from
 * readers until the import's row of `imports` is flipped to published: one short statement, where copying
 * 100,000 rows out of a staging table took 0.2–0.3 s. A `Uint8Array` body (UTF-8) goes to the worker
 * without a copy and is detached. PostgreSQL takes the same slices into one transaction of its own.
 */
export async function importData(
  repo: UsersStore,
  body: string | Uint8Array,
  format: ImportFormat,
  opts: { maxErrors?: number } = {},
): Promise<ImportResult> {
  const maxErrors = Math.max(0, Math.floor(opts.maxErrors ?? 1000));
  // The parser hands back only the first errors by line: enough to cap the merged list exactly.
  const parsed = await parseOffThread(body, format, maxErrors + 1);
  const fail = (errors: ImportError[], more = 0): ImportResult => ({
    ok: false,
    errors: capErrors(sortByLine(errors), maxErrors, errors.length + more),
  });
  const staging = repo.imports;
  await sweep(staging);
  const importId = await staging.begin();
  try {
    const errors = [...parsed.errors];
    let createdUsers = 0;
    // Users first, as behaviours refer to them; nothing is written once a row is known to be bad.
    if (errors.length === 0) {
      for (const slice of parsed.users) await inTurn(() => staging.write(importId, 'users', slice));
      for (const slice of parsed.mentioned) {
        createdUsers += await inTurn(() => staging.write(importId, 'mentioned', slice));
      }
    }
    // Each slice of behaviours is checked for ids already taken, then written while all is well so far.
    for (const [n, slice] of parsed.behaviours.entries()) {
      await inTurn(() =>
        andThen(takenIds(staging, parsed, n), (taken) => {
          errors.push(...taken);
          return errors.length === 0 ? staging.write(importId, 'behaviours', slice) : 0;
        }),
      );
    }
    if (errors.length > 0) {
      await discard(staging, importId);
      return fail(errors, parsed.errorCount - parsed.errors.length);
    }
    const result = {
      ok: true as const,
      users: parsed.userCount + createdUsers,
      behaviours: parsed.behaviourCount,
      createdUsers,
    };
    await staging.publish(importId, result);
    // New names and profiles of existing users already show; they move into the users' rows in slices.
    await sweep(staging);
    return result;
  } catch (err) {
    await discard(staging, importId);
    // Something other than an import (they take turns) wrote some of the same ids since the check.
    const raced = staging.isConflict(err) ? await existingBehaviours(staging, parsed) : [];
    if (raced.length === 0) throw err;
    return fail(raced);
  }
}

/**
 * Runs one slice's work, then leaves the event loop to others for as long as the work held it: an import
 * takes at most half of this thread, so a request or frame that needs several turns is not held up a slice
 * at each. Work that waits on a server holds the loop only until it has sent: the wait is not counted.
 */
async function inTurn<T>(work: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  const pending = work();
  const held = performance.now() - started;
  const result = await pending;
  await sleep(Math.max(1, held));
  return result;
}

/** `f(value)`, in this same turn when `value` is not a promise (so a synchronous step stays one step). */
function andThen<T, U>(value: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** Behaviours of slice `n` whose ids are already taken, as errors on their lines. */
function takenIds(
  staging: ImportTarget,
  parsed: ImportSlices,
  n: number,
): ImportError[] | Promise<ImportError[]> {
  return andThen(staging.existingBehaviours(parsed.behaviours[n]!), (taken) =>
    taken.map(({ i, id, userId }) => ({
      line: parsed.behaviourLines[n * SLICE_ROWS + i]!,
      reason: `behaviour id ${id} already exists (user ${userId})`,
    })),
  );
}

async function existingBehaviours(staging: ImportTarget, parsed: ImportSlices): Promise<ImportError[]> {
  const errors: ImportError[] = [];
  for (const n of parsed.behaviours.keys())
    errors.push(...(await inTurn(() => takenIds(staging, parsed, n))));
  return errors;
}

/** Removes what a crashed or failed import left and folds published user updates, a slice per turn. */
async function sweep(staging: ImportTarget): Promise<void> {
  while (await inTurn(() => staging.sweepStep()));
}

async function discard(staging: ImportTarget, importId: number): Promise<void> {
  await staging.abandon(importId);
  await sweep(staging);
}

const sortByLine = (errors: ImportError[]) => [...errors].sort((a, b) => a.line - b.line);

/**
 * Keeps the first `max` errors and adds one entry, on the first omitted line, saying how many were cut
 * (of `total`, which counts errors not in the list too).
 */
function capErrors(errors: ImportError[], max: number, total: number): ImportError[] {
  if (total <= max) return errors;
  const first = errors[max]!;
  const more = total - max;
  return [
    ...errors.slice(0, max),
    {
      line: first.line,
      reason: `…and ${more} more error${more === 1 ? '' : 's'} from line ${first.line} on (not shown)`,
    },
  ];
}
