import { Hono } from 'hono';
import { healthSchema, PROTOCOL_VERSION, type Health } from '@app/shared';
import type { AppContext, HonoEnv } from '../context.js';
import { doc, json } from '../openapi/describe.js';

export function healthRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const startedAt = new Date().toISOString();
  app.get(
    '/health',
    doc({
      summary: 'Server status and the model in use',
      tags: ['server'],
      responses: { 200: json(healthSchema, 'Up.') },
    }),
    async (c) =>
      c.json({
        status: 'ok',
        startedAt,
        protocol: PROTOCOL_VERSION,
        model: ctx.model,
        runningRuns: ctx.manager.running(),
        users: await ctx.users.count(),
        auth: Boolean(ctx.config.API_TOKEN),
        storage: ctx.store.storage,
        bus: ctx.store.bus,
        instance: ctx.store.instanceId,
      } satisfies Health),
  );
  return app;
}
