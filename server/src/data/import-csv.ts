import { parse } from 'csv-parse/sync';
import type { ImportError } from './import-parser.js';

/** A decoded row and the physical line it starts on. */
export interface RawRow {
  line: number;
  value: unknown;
}

const REQUIRED = ['id', 'user_id', 'ts', 'action', 'object', 'channel'];
const ALIASES: Record<string, string> = { userid: 'user_id' };

/**
 * Reads a CSV with a header row into records keyed by column name.
 * Records are split here (quote-aware) so each keeps the line it starts on; if csv-parse rejects the whole body,
 * each record is parsed on its own, so a broken one is reported on its line and the ones after it are still read.
 */
export function readCsv(text: string): { rows: RawRow[]; errors: ImportError[] } {
  const records = splitRecords(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')).filter(
    (r) => r.text.trim() !== '',
  );
  const [head, ...body] = records;
  if (!head) return { rows: [], errors: [{ line: 1, reason: 'the file is empty (a header row is needed)' }] };
  let header: string[];
  try {
    header = fieldsOf(head.text)
      .map((h) => h.trim().toLowerCase())
      .map((h) => ALIASES[h] ?? h);
  } catch (err) {
    return { rows: [], errors: [{ line: head.line, reason: `header row: ${csvReason(err)}` }] };
  }
  const missing = REQUIRED.filter((c) => !header.includes(c));
  const repeated = header.filter((c, i) => c !== '' && header.indexOf(c) !== i);
  if (missing.length > 0 || repeated.length > 0) {
    const problems = [
      missing.length > 0 ? `missing column(s) ${missing.map((c) => `"${c}"`).join(', ')}` : '',
      repeated.length > 0 ? `repeated column(s) ${repeated.map((c) => `"${c}"`).join(', ')}` : '',
    ].filter(Boolean);
    const reason = `header row: ${problems.join('; ')} (expected id,user_id,ts,action,object,channel[,detail])`;
    return { rows: [], errors: [{ line: head.line, reason }] };
  }
  const rows: RawRow[] = [];
  const errors: ImportError[] = [];
  const all = parseAll(body);
  body.forEach(({ line, text: chunk }, i) => {
    try {
      const fields = all?.[i] ?? fieldsOf(chunk);
      if (fields.length !== header.length) {
        errors.push({ line, reason: `row has ${fields.length} fields but the header has ${header.length}` });
      } else {
        rows.push({ line, value: Object.fromEntries(header.map((h, j) => [h, fields[j]])) });
      }
    } catch (err) {
      errors.push({ line, reason: csvReason(err) });
    }
  });
  return { rows, errors };
}

/** Fast path: one csv-parse call for the whole body; null (parse record by record) if anything is off. */
function parseAll(body: { text: string }[]): string[][] | null {
  try {
    const records = parse(body.map((r) => r.text).join('\n'), { relax_column_count: true });
    return records.length === body.length ? records : null;
  } catch {
    return null;
  }
}

function fieldsOf(record: string): string[] {
  const parsed = parse(record);
  if (parsed.length !== 1) throw new Error(`expected one record, found ${parsed.length}`);
  return parsed[0]!;
}

/** Splits at newlines outside quoted fields; a quote only opens a field at its start, as in RFC 4180. */
function splitRecords(src: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let inQuotes = false;
  let fieldStart = true;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inQuotes) {
      if (c === '"' && src[i + 1] === '"') i++;
      else if (c === '"') inQuotes = false;
      else if (c === '\n') line++;
    } else if (c === '\n') {
      out.push({ line: startLine, text: src.slice(start, i) });
      start = i + 1;
      startLine = ++line;
      fieldStart = true;
    } else {
      if (c === '"' && fieldStart) inQuotes = true;
      fieldStart = c === ',';
    }
  }
  if (start < src.length) out.push({ line: startLine, text: src.slice(start) });
  return out;
}

const CSV_REASONS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed (missing ")',
  INVALID_OPENING_QUOTE:
    'a quote (") inside an unquoted field; quote the whole field and double inner quotes',
  CSV_INVALID_CLOSING_QUOTE: 'unexpected characters after a closing quote',
};

function csvReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && CSV_REASONS[code]) || `malformed CSV: ${(err as Error).message}`;
}
