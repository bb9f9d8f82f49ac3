import { Hono } from 'hono';
import {
  userDetailSchema,
  userIdParamSchema,
  userPageSchema,
  usersQuerySchema,
  type UserDetail,
  type UserPage,
} from '@app/shared';
import { AppError } from '../../app-error.js';
import type { AppContext, HonoEnv } from '../context.js';
import { doc, json, problem } from '../openapi/describe.js';
import { valid } from '../openapi/validate.js';

export function userRoutes(ctx: AppContext): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  app.get(
    '/users',
    doc({
      summary: 'Users, searched and paged',
      description:
        'Search matches id, name or profile text; each user comes with the status of its newest run.',
      tags: ['users'],
      responses: {
        200: json(userPageSchema, 'One page of users.'),
        400: problem('`bad_request`: a malformed parameter.'),
      },
    }),
    valid('query', usersQuerySchema),
    async (c) => {
      const { q, limit, offset } = c.req.valid('query');
      return c.json({ ...(await ctx.users.list({ q, limit, offset })), limit, offset } satisfies UserPage);
    },
  );

  app.get(
    '/users/:userId',
    doc({
      summary: 'One user with its behaviour log',
      tags: ['users'],
      responses: {
        200: json(userDetailSchema, 'The user.'),
        400: problem('`bad_request`: a malformed user id.'),
        404: problem('`user_not_found`.'),
      },
    }),
    valid('param', userIdParamSchema),
    async (c) => {
      const { userId } = c.req.valid('param');
      const [user, behaviours] = await Promise.all([ctx.users.get(userId), ctx.users.behaviours(userId)]);
      if (!user) throw new AppError('user_not_found', `No user with id ${userId}.`);
      return c.json({ ...user, behaviours } satisfies UserDetail);
    },
  );

  return app;
}
