import type { Behaviour, ImportProblem, User } from '@app/shared';
import { readCsv, type RawRow } from './import-csv.js';
import { validateRow } from './import-rows.js';

/** One bad row: its 1-based physical line number and what is wrong with it (as the REST answer lists it). */
export type ImportError = ImportProblem;

export type ImportFormat = 'jsonl' | 'csv';

/** Parsed rows plus the line each behaviour came from, for errors found later (e.g. against the database). */
export interface ParsedImport {
  users: User[];
  behaviours: Behaviour[];
  errors: ImportError[];
  behaviourLines: number[];
}

/**
 * Parses and validates a JSONL or CSV import. Every bad row is reported (sorted by line), not just the first;
 * rows are returned even when others are bad, so callers decide whether to write anything.
 */
export function parseImport(
  text: string,
  format: ImportFormat,
): { users: User[]; behaviours: Behaviour[]; errors: ImportError[] } {
  const { users, behaviours, errors } = parseImportWithLines(text, format);
  return { users, behaviours, errors };
}

/** {@link parseImport} that also says which line each behaviour came from. */
export function parseImportWithLines(text: string, format: ImportFormat): ParsedImport {
  const read = format === 'csv' ? readCsv(text) : readJsonl(text);
  const out: ParsedImport = {
    users: [],
    behaviours: [],
    errors: [...read.errors],
    behaviourLines: [],
  };
  const userFirstLine = new Map<string, number>();
  const behaviourFirstLine = new Map<string, number>();
  for (const { line, value } of read.rows) {
    const r = validateRow(value);
    if ('error' in r) {
      out.errors.push({ line, reason: r.error });
    } else if ('user' in r) {
      const first = userFirstLine.get(r.user.id);
      if (first !== undefined) {
        out.errors.push({ line, reason: `duplicate user ${r.user.id} (first on line ${first})` });
        continue;
      }
      userFirstLine.set(r.user.id, line);
      out.users.push(r.user);
    } else {
      const first = behaviourFirstLine.get(r.behaviour.id);
      if (first !== undefined) {
        out.errors.push({
          line,
          reason: `duplicate behaviour id ${r.behaviour.id} (first on line ${first})`,
        });
        continue;
      }
      behaviourFirstLine.set(r.behaviour.id, line);
      out.behaviours.push(r.behaviour);
      out.behaviourLines.push(line);
    }
  }
  if (read.rows.length === 0 && out.errors.length === 0) {
    out.errors.push({
      line: 1,
      reason: format === 'csv' ? 'no data rows below the header' : 'no rows to import',
    });
  }
  out.errors.sort((a, b) => a.line - b.line);
  return out;
}

function readJsonl(text: string): { rows: RawRow[]; errors: ImportError[] } {
  const rows: RawRow[] = [];
  const errors: ImportError[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      if (raw.trim() === '') return;
      try {
        rows.push({ line: i + 1, value: JSON.parse(raw) });
      } catch (err) {
        errors.push({ line: i + 1, reason: `invalid JSON: ${(err as Error).message}` });
      }
    });
  return { rows, errors };
}

/** Picks the format from the file name, then the content type, then the first non-blank line; null if unsure. */
export function detectFormat(
  filename: string | undefined,
  contentType: string | undefined,
  text: string,
): ImportFormat | null {
  const ext = /\.([a-z0-9]+)$/i.exec(filename ?? '')?.[1]?.toLowerCase();
  if (ext === 'jsonl' || ext === 'ndjson' || ext === 'json') return 'jsonl';
  if (ext === 'csv') return 'csv';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (/^application\/(x-)?(ndjson|jsonl|jsonlines|json-seq|json)$/.test(type)) return 'jsonl';
  if (type === 'text/csv' || type === 'application/csv') return 'csv';
  const first =
    text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (first.startsWith('{')) return 'jsonl';
  if (/(^|,)\s*"?id"?\s*(,|$)/i.test(first)) return 'csv';
  return null;
}
