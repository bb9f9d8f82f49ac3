import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { AppError } from '../../app-error.js';
import type { AppContext, HonoEnv } from '../context.js';
import { EVENT_CSV_HEADER, eventCsvRows } from './event-csv.js';
import { parseRunId } from './stream-routes.js';

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
      if (format === 'csv') await s.write(EVENT_CSV_HEADER);
      // A few hundred rows per write: neither a write per row nor one string of the whole export.
      for (let i = 0; i < events.length; i += 500) {
        const page = events.slice(i, i + 500);
        await s.write(
          format === 'csv' ? eventCsvRows(page) : page.map((e) => `${JSON.stringify(e)}\n`).join(''),
        );
      }
    });
  });

  return app;
}
