import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { findTargetHandler } from 'hono/utils/handler';
import { apiErrorBodySchema } from '@app/shared';
import type { ProtocolCheck } from '../../protocol/protocol-check.js';
import { RESPONSES, type Documented, type Reply } from './describe.js';

/** The responses the matched route documents, or null for an undocumented one (a fallback). */
function documented(c: Parameters<MiddlewareHandler>[0]): Record<number, Reply> | null {
  for (const r of matchedRoutes(c)) {
    const h = findTargetHandler(r.handler) as Partial<Documented>;
    if (h[RESPONSES]) return h[RESPONSES];
  }
  return null;
}

/**
 * PROTOCOL_CHECK for HTTP: every answer's status must be one its route documents, and a JSON body must
 * parse with the documented schema (an error body with the error schema, wherever it comes from).
 */
export function checkResponses(check: ProtocolCheck): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const { status } = c.res;
    const where = `${c.req.method} ${c.req.path} → ${status}`;
    const docs = documented(c);
    const reply = docs?.[status];
    if (docs && !reply) check.report(`${where}: the route does not document this status`);
    if (!(c.res.headers.get('content-type') ?? '').startsWith('application/json')) return;
    const body: unknown = await c.res.clone().json();
    if (reply && !reply.json && reply.media?.['application/json'] === null) return; // a document of its own
    check.body(where, body, reply?.json ?? (status >= 400 ? apiErrorBodySchema : null));
  };
}
