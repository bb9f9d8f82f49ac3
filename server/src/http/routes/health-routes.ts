import { Hono } from 'hono';
import { PROTOCOL_VERSION } from '@app/shared';
import type { AppContext, HonoEnv } from '../context.js';

export function healthRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const startedAt = new Date().toISOString();
  app.get('/health', (c) =>
    c.json({
      status: 'ok',
      startedAt,
      protocol: PROTOCOL_VERSION,
      model: ctx.model,
      runningRuns: ctx.manager.running(),
      users: ctx.users.count(),
      auth: Boolean(ctx.config.API_TOKEN),
    }),
  );
  return app;
}
