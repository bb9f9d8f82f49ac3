import { Hono } from 'hono';
import { AppError } from '../../app-error.js';
import { detectFormat, importData } from '../../data/import-service.js';
import { limitBody } from '../body-limit.js';
import type { AppContext, HonoEnv } from '../context.js';
import { errorJson } from '../respond.js';

export function importRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  // Raw JSONL or CSV body; ?format= overrides detection. All or nothing.
  app.post('/import', limitBody(ctx.config.IMPORT_MAX_BYTES, 'IMPORT_MAX_BYTES'), async (c) => {
    const text = await c.req.text();
    if (!text.trim()) throw new AppError('bad_request', 'The import body is empty.');
    const asked = c.req.query('format');
    if (asked && asked !== 'jsonl' && asked !== 'csv')
      throw new AppError('bad_request', 'format must be jsonl or csv.');
    const format =
      (asked as 'jsonl' | 'csv' | undefined) ??
      detectFormat(c.req.query('filename'), c.req.header('content-type'), text);
    if (!format) {
      throw new AppError(
        'unsupported_media_type',
        'Cannot tell the format: send ?format=jsonl|csv or Content-Type text/csv / application/x-ndjson.',
      );
    }
    const result = importData(ctx.users, text, format);
    if (!result.ok) {
      return errorJson(
        c,
        422,
        'import_invalid',
        `${result.errors.length} bad row(s); nothing was imported.`,
        {
          errors: result.errors,
        },
      );
    }
    return c.json(result, 201);
  });

  return app;
}
