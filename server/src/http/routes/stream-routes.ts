import { Hono, type Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import {
  runFrameSchema,
  runIdParamSchema,
  streamHeadersSchema,
  streamQuerySchema,
  userIdParamSchema,
} from '@app/shared';
import { AppError } from '../../app-error.js';
import { ClientRunLimit } from '../../runs/client-limit.js';
import { clientAddress } from '../client-address.js';
import type { AppContext, HonoEnv } from '../context.js';
import { doc, media, problem } from '../openapi/describe.js';
import { valid } from '../openapi/validate.js';
import { SseSink } from '../sse-sink.js';

const TAGS = ['streams'];
const frames = (what: string) =>
  media(
    { 'text/event-stream': runFrameSchema },
    `${what} Each SSE event is \`id: <seq>\` and \`data: <one RunFrame as JSON>\`; \`: ping\` comments keep it ` +
      'alive. The response ends after the run has settled and every frame was sent.',
  );

/** Streams a run over SSE from `after`; the response ends once the run has settled and all was sent. */
async function streamRun(
  ctx: AppContext,
  c: Context<HonoEnv>,
  runId: string,
  after: number,
): Promise<Response> {
  const res = c.env.outgoing;
  const sink = new SseSink(res, ctx.config.SSE_HEARTBEAT_MS, ctx.protocolCheck?.sseFrame);
  const sub = await ctx.manager.subscribe(
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
  app.post(
    '/events/extract/:userId/llm-stream',
    doc({
      summary: 'Start a run for a user and stream its frames (the original endpoint)',
      description: 'curl -N -X POST …/api/v1/events/extract/user_0007/llm-stream',
      tags: TAGS,
      responses: {
        200: frames('The run, from its first frame.'),
        400: problem('`bad_request`: a malformed user id.'),
        404: problem('`user_not_found`.'),
        429: problem('`too_many_runs` (retryable).'),
        503: problem('`shutting_down`: the server is stopping (retryable).'),
      },
    }),
    valid('param', userIdParamSchema),
    async (c) => {
      const client = clientAddress(c.env.incoming, ctx.config.trustProxy);
      const { run } = await perClient.startOnce(client, c.req.valid('param').userId, undefined);
      return streamRun(ctx, c, run.id, 0);
    },
  );

  // Re-attach to any run, live or finished, for EventSource (Last-Event-ID) or curl (?after=).
  app.get(
    '/runs/:runId/stream',
    doc({
      summary: "Stream a run's frames after a cursor, then live ones",
      description: 'For EventSource (`Last-Event-ID`) or curl (`?after=`); a resumed run continues on it.',
      tags: TAGS,
      responses: {
        200: frames('Frames after the cursor.'),
        204: { description: 'The run has settled and the cursor is at its last frame: nothing to send.' },
        400: problem('`invalid_cursor`, or `bad_request`: a malformed run id.'),
        404: problem('`run_not_found`.'),
      },
    }),
    valid('param', runIdParamSchema),
    valid('query', streamQuerySchema),
    valid('header', streamHeadersSchema),
    async (c) => {
      const { runId } = c.req.valid('param');
      const after = parseCursor(c);
      const at = await ctx.manager.position(runId);
      if (!at) throw new AppError('run_not_found', `No run with id ${runId}.`);
      // Nothing left to send on a settled run: 204 tells EventSource to stop reconnecting (no log read back).
      if (at.settled && after === at.lastSeq) return c.body(null, 204);
      return streamRun(ctx, c, runId, after);
    },
  );

  return app;
}
