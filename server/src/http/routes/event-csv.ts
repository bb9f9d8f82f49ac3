import { stringify, type Options } from 'csv-stringify/sync';
import type { ExtractedEvent } from '@app/shared';

const CSV_COLUMNS = [
  'user_id',
  'event_type',
  'start_time',
  'end_time',
  'source_behavior_ids',
  'summary',
  'run_id',
  'line_no',
];

/** What a spreadsheet would run as a formula (OWASP CSV injection), full-width forms included. */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * RFC 4180 quoting, and OWASP's defence against formula injection: a field that starts like a formula
 * gets a leading `'` (shown as text, the value still readable) and is quoted. Text stays raw UTF-8.
 */
const OPTIONS: Options = { escape_formulas: true, quoted_match: FORMULA_START, record_delimiter: '\r\n' };

/** The header row, after a BOM so spreadsheet programs read the Chinese as UTF-8. */
export const EVENT_CSV_HEADER = `\uFEFF${stringify([CSV_COLUMNS], OPTIONS)}`;

/** Events as CSV rows, each ending in CRLF. */
export const eventCsvRows = (events: readonly ExtractedEvent[]): string =>
  stringify(
    events.map((e) => [
      e.userId,
      e.eventType,
      e.startTime,
      e.endTime,
      e.sourceBehaviorIds.join(','),
      e.summary,
      e.runId,
      e.lineNo,
    ]),
    OPTIONS,
  );
