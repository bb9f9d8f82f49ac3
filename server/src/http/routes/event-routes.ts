import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { ExtractedEvent } from '@app/shared';
import { AppError } from '../../app-error.js';
import type { AppContext, HonoEnv } from '../context.js';
import { parseRunId } from './stream-routes.js';

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

/** RFC 4180 quoting; text stays raw UTF-8. */
const csvCell = (v: string | number): string => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const eventCsvRow = (e: ExtractedEvent): string =>
  [e.userId, e.eventType, e.startTime, e.endTime, e.sourceBehaviorIds.join(','), e.summary, e.runId, e.lineNo]
    .map(csvCell)
    .join(',');

export function eventRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const filters = (q: (k: string) => string | undefined) => ({
    userId: q('userId') || undefined,
    runId: q('runId') ? parseRunId(q('runId')!) : undefined,
  });

  // Current events: each user's latest run that produced events (or one run's with ?runId=).
  app.get('/events', (c) => {
    const items = ctx.runs.events(filters((k) => c.req.query(k)));
    return c.json({ items, total: items.length });
  });

  app.get('/events/export', (c) => {
    const format = c.req.query('format') ?? 'csv';
    if (format !== 'csv' && format !== 'jsonl')
      throw new AppError('bad_request', 'format must be csv or jsonl.');
    const f = filters((k) => c.req.query(k));
    const name = `events${f.userId ? `-${f.userId}` : ''}.${format}`;
    c.header(
      'Content-Type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    );
    c.header('Content-Disposition', `attachment; filename="${name}"`);
    const events = ctx.runs.events(f);
    return stream(c, async (s) => {
      // BOM so spreadsheet programs read the Chinese as UTF-8.
      if (format === 'csv') await s.write(`\uFEFF${CSV_COLUMNS.join(',')}\r\n`);
      let batch = '';
      for (const e of events) {
        batch += format === 'csv' ? `${eventCsvRow(e)}\r\n` : `${JSON.stringify(e)}\n`;
        if (batch.length > 64 * 1024) {
          await s.write(batch);
          batch = '';
        }
      }
      if (batch) await s.write(batch);
    });
  });

  return app;
}
