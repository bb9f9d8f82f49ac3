import { Hono } from 'hono';
import {
  cancelRunResponseSchema,
  resumeRunResponseSchema,
  runDetailSchema,
  runIdParamSchema,
  runPageSchema,
  runsQuerySchema,
  startRunRequestSchema,
  startRunResponseSchema,
  type CancelRunResponse,
  type ResumeRunResponse,
  type RunPage,
  type StartRunResponse,
} from '@app/shared';
import { AppError } from '../../app-error.js';
import { ClientRunLimit } from '../../runs/client-limit.js';
import { clientAddress } from '../client-address.js';
import type { AppContext, HonoEnv } from '../context.js';
import { doc, json, problem } from '../openapi/describe.js';
import { valid } from '../openapi/validate.js';

const TAGS = ['runs'];
const notFound = problem('`run_not_found`.');
const malformed = problem('`bad_request`: a malformed run id.');
const stopping = problem('`shutting_down`: the server is stopping; try again once it is back (retryable).');
const overLimit = problem(
  '`too_many_runs`: MAX_RUNNING_RUNS, or MAX_RUNNING_RUNS_PER_CLIENT for this client, are generating (retryable).',
);

export function runRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const perClient = ClientRunLimit.of(ctx.manager, ctx.config.MAX_RUNNING_RUNS_PER_CLIENT);

  app.get(
    '/runs',
    doc({
      summary: 'Runs, newest first',
      tags: TAGS,
      responses: { 200: json(runPageSchema, 'One page of runs.'), 400: problem('`bad_request`.') },
    }),
    valid('query', runsQuerySchema),
    async (c) => {
      const { userId, status, limit, offset } = c.req.valid('query');
      return c.json({
        ...(await ctx.runs.list({ userId, status, limit, offset })),
        limit,
        offset,
      } satisfies RunPage);
    },
  );

  app.get(
    '/runs/:runId',
    doc({
      summary: 'One run: its text so far, events and rejected lines',
      tags: TAGS,
      responses: { 200: json(runDetailSchema, 'The run.'), 400: malformed, 404: notFound },
    }),
    valid('param', runIdParamSchema),
    async (c) => {
      const { runId } = c.req.valid('param');
      const detail = await ctx.runs.detail(runId, ctx.manager.liveText(runId));
      if (!detail) throw new AppError('run_not_found', `No run with id ${runId}.`);
      return c.json(detail);
    },
  );

  // For clients without a WebSocket: same semantics as the channel's cancel.
  app.post(
    '/runs/:runId/cancel',
    doc({
      summary: 'Cancel a running run',
      description: 'The upstream model request is aborted; watchers get the `cancelled` frame.',
      tags: TAGS,
      responses: {
        202: json(cancelRunResponseSchema, 'Cancelling.'),
        400: malformed,
        404: notFound,
        409: problem('`run_not_running`: the run has already ended.'),
      },
    }),
    valid('param', runIdParamSchema),
    async (c) => {
      const run = await ctx.manager.cancel(c.req.valid('param').runId);
      return c.json({ runId: run.id, status: 'cancelling' } satisfies CancelRunResponse, 202);
    },
  );

  app.post(
    '/runs/:runId/resume',
    doc({
      summary: 'Continue a cancelled or interrupted run',
      description: 'Frames append to the same log: watch after `lastSeq` to get the resumed ones.',
      tags: TAGS,
      responses: {
        202: json(resumeRunResponseSchema, 'Resuming.'),
        400: malformed,
        404: notFound,
        409: problem('`run_not_resumable`: the run is running, or finished without a retryable error.'),
        429: overLimit,
        503: stopping,
      },
    }),
    valid('param', runIdParamSchema),
    async (c) => {
      const client = clientAddress(c.env.incoming, ctx.config.trustProxy);
      const run = await perClient.resume(client, c.req.valid('param').runId);
      const body: ResumeRunResponse = { runId: run.id, status: run.status, lastSeq: run.lastSeq };
      return c.json(body, 202);
    },
  );

  // Start without streaming (batch scripts); watch with GET /runs/{id}/stream or the WebSocket.
  app.post(
    '/runs',
    doc({
      summary: 'Start a run without streaming it',
      description:
        'Watch it with `GET /runs/{runId}/stream` or the WebSocket. With a `key`, a retried start answers ' +
        'the run the key started (200) instead of starting another.',
      tags: TAGS,
      body: { schema: startRunRequestSchema },
      responses: {
        200: json(startRunResponseSchema, 'The run this key already started.'),
        201: json(startRunResponseSchema, 'Started.'),
        400: problem('`bad_request`: no userId, a malformed key, or a key used for another user.'),
        404: problem('`user_not_found`.'),
        429: overLimit,
        503: stopping,
      },
    }),
    async (c) => {
      // Any content type: curl's -d sends a form type with this JSON.
      const raw: unknown = await c.req.json().catch(() => null);
      const body = startRunRequestSchema.safeParse(raw);
      if (!body.success) {
        const badKey = body.error.issues.find((i) => i.path[0] === 'key');
        throw new AppError(
          'bad_request',
          badKey ? `Invalid key: ${badKey.message}.` : 'Body must be JSON {"userId": "…", "key"?: "…"}.',
        );
      }
      const client = clientAddress(c.env.incoming, ctx.config.trustProxy);
      const { run, created } = await perClient.startOnce(client, body.data.userId, body.data.key);
      // Answered once the run is committed: a crash cannot take back a run id the client was given.
      await run.durable();
      // 201 for a new run, 200 when the key had already started this one.
      return c.json({ runId: run.id, status: run.status } satisfies StartRunResponse, created ? 201 : 200);
    },
  );

  return app;
}
