import { Hono, type Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { runIdSchema, userIdSchema } from '@app/shared';
import { AppError } from '../../app-error.js';
import { ClientRunLimit } from '../../runs/client-limit.js';
import { clientAddress } from '../client-address.js';
import type { AppContext, HonoEnv } from '../context.js';
import { SseSink } from '../sse-sink.js';

/** Streams a run over SSE from `after`; the response ends once the run has settled and all was sent. */
function streamRun(ctx: AppContext, c: Context<HonoEnv>, runId: string, after: number): Response {
  const res = c.env.outgoing;
  const sink = new SseSink(res, ctx.config.SSE_HEARTBEAT_MS, ctx.protocolCheck?.sseFrame);
  const sub = ctx.manager.subscribe(
    runId,
    sink,
    after,
    (s) => {
      ctx.manager.unsubscribe(s);
      sink.end();
    },
    () => sink.open(),
  );
  ctx.metrics.sseStreams.inc();
  // The run belongs to the server: a client going away only detaches its watcher.
  res.once('close', () => {
    ctx.metrics.sseStreams.dec();
    ctx.manager.unsubscribe(sub);
  });
  return RESPONSE_ALREADY_SENT;
}

function parseCursor(c: Context): number {
  // Last-Event-ID first: on a reconnect EventSource sends it, newer than the ?after= in its URL.
  const raw = c.req.header('last-event-id') ?? c.req.query('after');
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw new AppError(
      'invalid_cursor',
      `Last-Event-ID / after must be a non-negative integer seq, got "${raw}".`,
    );
  }
  return Number(raw.trim());
}

export function streamRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const perClient = ClientRunLimit.of(ctx.manager, ctx.config.MAX_RUNNING_RUNS_PER_CLIENT);

  // The original endpoint: starts a run and streams it. curl -N -X POST …/extract/user_0007/llm-stream
  app.post('/events/extract/:userId/llm-stream', (c) => {
    const userId = userIdSchema.safeParse(c.req.param('userId'));
    if (!userId.success) throw new AppError('bad_request', `Malformed user id "${c.req.param('userId')}".`);
    const client = clientAddress(c.env.incoming, ctx.config.trustProxy);
    const { run } = perClient.startOnce(client, userId.data, undefined);
    return streamRun(ctx, c, run.id, 0);
  });

  // Re-attach to any run, live or finished, for EventSource (Last-Event-ID) or curl (?after=).
  app.get('/runs/:runId/stream', (c) => {
    const runId = parseRunId(c.req.param('runId'));
    const after = parseCursor(c);
    const at = ctx.manager.position(runId);
    if (!at) throw new AppError('run_not_found', `No run with id ${runId}.`);
    // Nothing left to send on a settled run: 204 tells EventSource to stop reconnecting (no log read back).
    if (at.settled && after === at.lastSeq) return c.body(null, 204);
    return streamRun(ctx, c, runId, after);
  });

  return app;
}

export function parseRunId(raw: string): string {
  const r = runIdSchema.safeParse(raw);
  if (!r.success) throw new AppError('bad_request', `Malformed run id "${raw}".`);
  return r.data;
}
