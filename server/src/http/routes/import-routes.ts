import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../../app-error.js';
import { detectFormat, importData } from '../../data/import-service.js';
import type { AppContext, HonoEnv } from '../context.js';
import { errorJson } from '../respond.js';

const MAX_IMPORT_BYTES = 50 * 1024 * 1024;

export function importRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  // Raw JSONL or CSV body; ?format= overrides detection. All or nothing.
  app.post(
    '/import',
    bodyLimit({
      maxSize: MAX_IMPORT_BYTES,
      onError: (c) =>
        errorJson(c, 413, 'message_too_large', `Imports are limited to ${MAX_IMPORT_BYTES} bytes.`),
    }),
    async (c) => {
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
    },
  );

  return app;
}
