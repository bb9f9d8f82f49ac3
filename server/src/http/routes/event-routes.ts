import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import {
  eventPageSchema,
  eventsQuerySchema,
  exportQuerySchema,
  extractedEventSchema,
  type EventPage,
} from '@app/shared';
import type { AppContext, HonoEnv } from '../context.js';
import { doc, json, media, problem } from '../openapi/describe.js';
import { valid } from '../openapi/validate.js';
import { EVENT_CSV_HEADER, eventCsvRows } from './event-csv.js';

const TAGS = ['events'];

export function eventRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  // Current events: each user's latest run that produced events (or one run's with ?runId=).
  app.get(
    '/events',
    doc({
      summary: "Current events: each user's latest run that produced events",
      tags: TAGS,
      responses: { 200: json(eventPageSchema, 'The events.'), 400: problem('`bad_request`.') },
    }),
    valid('query', eventsQuerySchema),
    async (c) => {
      const items = await ctx.runs.events(c.req.valid('query'));
      return c.json({ items, total: items.length } satisfies EventPage);
    },
  );

  app.get(
    '/events/export',
    doc({
      summary: 'The current events as a download',
      description: 'CSV (RFC 4180, BOM, formula starts neutralised) or JSONL, one event a line.',
      tags: TAGS,
      responses: {
        200: media(
          { 'text/csv': null, 'application/x-ndjson': extractedEventSchema },
          'CSV (`user_id,event_type,start_time,end_time,source_behavior_ids,summary,run_id,line_no`), ' +
            'or JSONL: one ExtractedEvent a line.',
        ),
        400: problem('`bad_request`.'),
      },
    }),
    valid('query', exportQuerySchema),
    async (c) => {
      const { format, ...f } = c.req.valid('query');
      const name = `events${f.userId ? `-${f.userId}` : ''}.${format}`;
      c.header(
        'Content-Type',
        format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      );
      c.header('Content-Disposition', `attachment; filename="${name}"`);
      const events = await ctx.runs.events(f);
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
    },
  );

  return app;
}
