import { Hono } from 'hono';
import { RUN_STATUSES, startKeySchema, type RunStatus } from '@app/shared';
import { AppError } from '../../app-error.js';
import { ClientRunLimit } from '../../runs/client-limit.js';
import { clientAddress } from '../client-address.js';
import type { AppContext, HonoEnv } from '../context.js';
import { intParam } from '../respond.js';
import { parseRunId } from './stream-routes.js';

export function runRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const perClient = ClientRunLimit.of(ctx.manager, ctx.config.MAX_RUNNING_RUNS_PER_CLIENT);

  app.get('/runs', (c) => {
    const status = c.req.query('status');
    if (status && !RUN_STATUSES.includes(status as RunStatus)) {
      throw new AppError('bad_request', `status must be one of ${RUN_STATUSES.join(', ')}.`);
    }
    const limit = intParam(c, 'limit', 50, 1, 500);
    const offset = intParam(c, 'offset', 0, 0, 1e9);
    const userId = c.req.query('userId') || undefined;
    return c.json({
      ...ctx.runs.list({ userId, status: status as RunStatus | undefined, limit, offset }),
      limit,
      offset,
    });
  });

  app.get('/runs/:runId', (c) => {
    const runId = parseRunId(c.req.param('runId'));
    const detail = ctx.runs.detail(runId, ctx.manager.liveText(runId));
    if (!detail) throw new AppError('run_not_found', `No run with id ${runId}.`);
    return c.json(detail);
  });

  // For clients without a WebSocket: same semantics as the channel's cancel.
  app.post('/runs/:runId/cancel', (c) => {
    const run = ctx.manager.cancel(parseRunId(c.req.param('runId')));
    return c.json({ runId: run.id, status: 'cancelling' }, 202);
  });

  app.post('/runs/:runId/resume', (c) => {
    const client = clientAddress(c.env.incoming, ctx.config.trustProxy);
    const run = perClient.resume(client, parseRunId(c.req.param('runId')));
    return c.json({ runId: run.id, status: run.status, lastSeq: run.lastSeq }, 202);
  });

  // Start without streaming (batch scripts); watch with GET /runs/{id}/stream or the WebSocket.
  app.post('/runs', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { userId?: unknown; key?: unknown } | null;
    if (!body || typeof body.userId !== 'string') {
      throw new AppError('bad_request', 'Body must be JSON {"userId": "…", "key"?: "…"}.');
    }
    const key = body.key === undefined ? undefined : startKeySchema.safeParse(body.key);
    if (key && !key.success)
      throw new AppError('bad_request', `Invalid key: ${key.error.issues[0]!.message}.`);
    const client = clientAddress(c.env.incoming, ctx.config.trustProxy);
    const { run, created } = perClient.startOnce(client, body.userId, key?.data);
    // Answered once the run is committed: a crash cannot take back a run id the client was given.
    await run.durable();
    // 201 for a new run, 200 when the key had already started this one.
    return c.json({ runId: run.id, status: run.status }, created ? 201 : 200);
  });

  return app;
}
