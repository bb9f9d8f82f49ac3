import { Hono } from 'hono';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { healthSchema } from '@app/shared';
import { ProtocolCheck } from '../../protocol/protocol-check.js';
import { checkResponses } from './check-responses.js';
import { doc, json, problem } from './describe.js';

/** A small app whose answers break their documentation on purpose. */
function app(check: ProtocolCheck) {
  const a = new Hono();
  a.use('*', checkResponses(check));
  const documented = doc({
    summary: 'x',
    tags: ['t'],
    responses: { 200: json(healthSchema, 'ok'), 404: problem('gone') },
  });
  a.get('/right', documented, (c) =>
    c.json({
      status: 'ok',
      startedAt: 'now',
      protocol: 2,
      model: { name: 'm', builtin: true, baseURL: 'built-in' },
      runningRuns: 0,
      users: 1,
      auth: false,
      storage: 'sqlite',
      bus: 'in-process',
      instance: 'a',
    }),
  );
  a.get('/wrong-body', documented, (c) => c.json({ status: 'ok' }));
  a.get('/wrong-status', documented, (c) => c.json({ error: { code: 'too_many_runs', message: 'x' } }, 429));
  a.get('/bad-error', (c) => c.json({ error: 'nope' }, 400));
  return a;
}

describe('PROTOCOL_CHECK over HTTP', () => {
  it('passes an answer that matches its route’s documentation', async () => {
    const check = new ProtocolCheck(pino({ level: 'silent' }));
    expect((await app(check).request('/right')).status).toBe(200);
    expect([check.checked, check.violations]).toEqual([1, []]);
  });

  it('reports a body that is not the documented schema, an undocumented status, a malformed error body', async () => {
    const check = new ProtocolCheck(pino({ level: 'silent' }));
    const a = app(check);
    await a.request('/wrong-body');
    await a.request('/wrong-status');
    await a.request('/bad-error');
    expect(check.violations).toEqual([
      expect.stringMatching(/^GET \/wrong-body → 200: .*startedAt/),
      'GET /wrong-status → 429: the route does not document this status',
      expect.stringMatching(/^GET \/bad-error → 400: error: /),
    ]);
  });
});
