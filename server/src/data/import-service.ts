import type { User } from '@app/shared';
import type { UsersRepo } from '../db/users-repo.js';
import {
  parseImportWithLines,
  type ImportError,
  type ImportFormat,
  type ParsedImport,
} from './import-parser.js';

export { detectFormat, parseImport, type ImportError, type ImportFormat } from './import-parser.js';

/**
 * `users` counts user rows written (from the file plus `createdUsers`, the ones made with an empty profile
 * because behaviours referenced them); `behaviours` counts behaviours inserted.
 */
export type ImportResult =
  | { ok: true; users: number; behaviours: number; createdUsers: number }
  | { ok: false; errors: ImportError[] };

/**
 * Validates a whole import, including against the database, then writes it in one transaction.
 * All or nothing: with any bad row nothing is written and every error is returned (capped at `maxErrors`).
 */
export function importData(
  repo: UsersRepo,
  text: string,
  format: ImportFormat,
  opts: { maxErrors?: number } = {},
): ImportResult {
  const maxErrors = Math.max(0, Math.floor(opts.maxErrors ?? 1000));
  const parsed = parseImportWithLines(text, format);
  const errors = [...parsed.errors, ...existingBehaviours(repo, parsed)];
  if (errors.length > 0) return { ok: false, errors: capErrors(sortByLine(errors), maxErrors) };

  const known = new Set(parsed.users.map((u) => u.id));
  const created: User[] = [];
  for (const { userId } of parsed.behaviours) {
    if (known.has(userId)) continue;
    known.add(userId);
    if (!repo.get(userId)) created.push({ id: userId, name: null, profile: {} });
  }
  try {
    repo.upsertAll([...parsed.users, ...created], parsed.behaviours);
  } catch (err) {
    // Another writer may have inserted the same behaviour ids since the check above.
    const raced = existingBehaviours(repo, parsed);
    if (raced.length === 0) throw err;
    return { ok: false, errors: capErrors(raced, maxErrors) };
  }
  return {
    ok: true,
    users: parsed.users.length + created.length,
    behaviours: parsed.behaviours.length,
    createdUsers: created.length,
  };
}

function existingBehaviours(repo: UsersRepo, parsed: ParsedImport): ImportError[] {
  const errors: ImportError[] = [];
  parsed.behaviours.forEach((b, i) => {
    const owner = repo.behaviourOwnerOf(b.id);
    if (owner !== null) {
      errors.push({
        line: parsed.behaviourLines[i]!,
        reason: `behaviour id ${b.id} already exists (user ${owner})`,
      });
    }
  });
  return errors;
}

const sortByLine = (errors: ImportError[]) => [...errors].sort((a, b) => a.line - b.line);

/** Keeps the first `max` errors and adds one entry, on the first omitted line, saying how many were cut. */
function capErrors(errors: ImportError[], max: number): ImportError[] {
  if (errors.length <= max) return errors;
  const first = errors[max]!;
  const more = errors.length - max;
  return [
    ...errors.slice(0, max),
    {
      line: first.line,
      reason: `…and ${more} more error${more === 1 ? '' : 's'} from line ${first.line} on (not shown)`,
    },
  ];
}
