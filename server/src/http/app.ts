import { Hono } from 'hono';
import { sessionRequestSchema, sessionResponseSchema, type SessionResponse } from '@app/shared';
import { setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { AppError } from '../app-error.js';
import { TOKEN_COOKIE, tokenMatches, tokenOf } from './auth.js';
import { JSON_BODY_MAX_BYTES, limitBody } from './body-limit.js';
import { viaHttps } from './client-address.js';
import { hostCheck } from './host-check.js';
import type { AppContext, HonoEnv } from './context.js';
import { checkResponses } from './openapi/check-responses.js';
import { doc, json, media, problem } from './openapi/describe.js';
import { docsRoutes } from './openapi/docs-routes.js';
import { appErrorJson, errorJson } from './respond.js';
import { eventRoutes } from './routes/event-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { importRoutes } from './routes/import-routes.js';
import { runRoutes } from './routes/run-routes.js';
import { streamRoutes } from './routes/stream-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { mountStaticUi } from './static-ui.js';

/** The HTTP surface: REST + SSE under /api/v1, and the built UI at /. */
export function createApp(ctx: AppContext, opts: { webDir?: string } = {}): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const api = new Hono<HonoEnv>();
  const token = ctx.config.API_TOKEN;

  // PROTOCOL_CHECK (tests): every answer against what its route documents.
  if (ctx.protocolCheck) app.use('*', checkResponses(ctx.protocolCheck));

  // Before the token check: they describe the API, they give no access to it.
  api.route(
    '/',
    docsRoutes(() => app),
  );

  // Trades the token for an HttpOnly cookie, so the browser's EventSource and WebSocket carry it.
  // Answered before the token check, so it reads no more than a small body.
  const sessionDoc = doc({
    summary: 'Trade the token for an HttpOnly session cookie',
    description: "So the browser's EventSource and WebSocket carry it.",
    tags: ['server'],
    public: true,
    body: { schema: sessionRequestSchema },
    responses: {
      200: json(sessionResponseSchema, 'The cookie is set (or the server has no token).'),
      401: problem('`unauthorized`: wrong token.'),
    },
  });
  api.post('/session', sessionDoc, limitBody(JSON_BODY_MAX_BYTES), async (c) => {
    if (!token) return c.json({ auth: false } satisfies SessionResponse);
    const body = sessionRequestSchema.safeParse(await c.req.json().catch(() => null));
    const given = body.success ? body.data.token : null;
    if (!tokenMatches(given, token)) return errorJson(c, 401, 'unauthorized', 'Wrong token.');
    setCookie(c, TOKEN_COOKIE, given!, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      // Only over HTTPS (directly or behind TRUST_PROXY): on plain http a Secure cookie would not be kept.
      secure: viaHttps(c.env.incoming, ctx.config.trustProxy),
    });
    return c.json({ auth: true } satisfies SessionResponse);
  });

  if (token) {
    api.use('*', async (c, next) => {
      if (!tokenMatches(tokenOf(c.req.raw.headers, c.req.url), token)) {
        return errorJson(c, 401, 'unauthorized', 'This server requires a token (Authorization: Bearer …).');
      }
      await next();
    });
  }

  // Before the JSON limit: imports have their own, larger one (IMPORT_MAX_BYTES). Both apply after the token check.
  api.route('/', importRoutes(ctx));
  api.use('*', limitBody(JSON_BODY_MAX_BYTES));
  api.route('/', healthRoutes(ctx));
  api.route('/', userRoutes(ctx));
  api.route('/', runRoutes(ctx));
  api.route('/', streamRoutes(ctx));
  api.route('/', eventRoutes(ctx));
  api.all('*', (c) => {
    const known = api.routes.filter(
      (r) => r.method !== 'ALL' && matches(r.path, c.req.path.replace(/^\/api\/v1/, '')),
    );
    if (known.length > 0) {
      c.header('Allow', [...new Set(known.map((r) => r.method))].join(', '));
      return errorJson(c, 405, 'method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}.`);
    }
    return errorJson(c, 404, 'not_found', `No API route ${c.req.method} ${c.req.path}.`);
  });

  // One access-log line per request (never per frame); streams log when they start.
  app.use('/api/*', async (c, next) => {
    const t0 = performance.now();
    await next();
    ctx.log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - t0),
      },
      'request',
    );
  });
  // DNS rebinding: every request (API, SSE, metrics, UI) must name this server in Host.
  app.use('*', hostCheck(ctx.config));
  const text = (summary: string, isPublic: boolean) =>
    doc({
      summary,
      tags: ['server'],
      public: isPublic,
      bodyLimit: false,
      responses: { 200: media({ 'text/plain': null }, 'OK.') },
    });
  app.get('/healthz', text('Liveness: answers `ok`', true), (c) => c.text('ok'));
  app.get('/metrics', text('Prometheus metrics', false), async (c) => {
    if (token && !tokenMatches(tokenOf(c.req.raw.headers, c.req.url), token)) {
      return errorJson(c, 401, 'unauthorized', 'This server requires a token (Authorization: Bearer …).');
    }
    c.header('Content-Type', ctx.metrics.registry.contentType);
    return c.body(await ctx.metrics.registry.metrics());
  });
  app.route('/api/v1', api);
  if (opts.webDir) mountStaticUi(app, opts.webDir);

  app.onError((err, c) => {
    if (err instanceof AppError) return appErrorJson(c, err);
    if (err instanceof HTTPException) return errorJson(c, err.status, 'bad_request', err.message);
    ctx.log.error({ err, path: c.req.path }, 'unhandled error');
    return errorJson(c, 500, 'internal', 'Internal server error.');
  });
  app.notFound((c) => errorJson(c, 404, 'not_found', `Nothing at ${c.req.path}.`));
  return app;
}

/** Whether a Hono route pattern such as /runs/:runId/stream matches a path. */
function matches(pattern: string, path: string): boolean {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length || pattern.includes('*')) return false;
  return a.every((seg, i) => seg.startsWith(':') || seg === b[i]);
}
