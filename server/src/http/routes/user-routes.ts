import { Hono } from 'hono';
import { userIdSchema } from '@app/shared';
import { AppError } from '../../app-error.js';
import type { AppContext, HonoEnv } from '../context.js';
import { intParam } from '../respond.js';

export function userRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  app.get('/users', (c) => {
    const limit = intParam(c, 'limit', 50, 1, 500);
    const offset = intParam(c, 'offset', 0, 0, 1e9);
    const q = c.req.query('q')?.trim() || undefined;
    if (q && q.length > 100) throw new AppError('bad_request', 'Search text q is limited to 100 characters.');
    return c.json({ ...ctx.users.list({ q, limit, offset }), limit, offset });
  });

  app.get('/users/:userId', (c) => {
    const id = userIdSchema.safeParse(c.req.param('userId'));
    if (!id.success) throw new AppError('bad_request', `Malformed user id "${c.req.param('userId')}".`);
    const user = ctx.users.get(id.data);
    if (!user) throw new AppError('user_not_found', `No user with id ${id.data}.`);
    return c.json({ ...user, behaviours: ctx.users.behaviours(id.data) });
  });

  return app;
}
