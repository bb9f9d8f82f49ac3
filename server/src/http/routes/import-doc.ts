import { importQuerySchema, importSummarySchema } from '@app/shared';
import { doc, json, problem } from '../openapi/describe.js';
import { valid } from '../openapi/validate.js';

/** The documentation and query check of `POST /import` (its body is a file, not JSON). */
export const importDoc = [
  doc({
    summary: 'Import users and behaviours from JSONL or CSV, all or nothing',
    description:
      'The body is the file itself. JSONL: one object a line, `{"type":"user",…}` or a behaviour ' +
      '(`user_id`, `id`, `ts`, `action`, `object`, `channel`, `detail`?). CSV: a header row with those columns. ' +
      'Any bad row: nothing is imported and every bad row is listed in `error.details.errors` ' +
      '(`[{ line, reason }]`).',
    tags: ['users'],
    responses: {
      201: json(importSummarySchema, 'Imported.'),
      400: problem('`bad_request`: an empty body or a bad parameter.'),
      409: problem('`import_in_progress`: another import is being written (retryable).'),
      413: problem('`payload_too_large`: the body is over IMPORT_MAX_BYTES.'),
      415: problem('`unsupported_media_type`: the format cannot be told; send `?format=`.'),
      422: problem('`import_invalid`: bad rows, listed in `details.errors`; nothing was imported.'),
    },
  }),
  valid('query', importQuerySchema),
] as const;
