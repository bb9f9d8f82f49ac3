import { expect, it } from 'vitest';
import { AppError } from '../app-error.js';
import { startTestServer } from '../test-support/test-server.js';

it('once shutdown began, start and resume are refused with 503 shutting_down (retryable), not cut later', async () => {
  const s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 5 });
  try {
    const { manager } = s.ctx;
    const run = await manager.start('user_0002');
    const stopping = manager.shutdown();
    const refused = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        return err;
      }
      return null;
    };
    const started = await refused(() => manager.start('user_0003'));
    expect(started).toBeInstanceOf(AppError);
    expect(started).toMatchObject({ code: 'shutting_down', status: 503 });
    await stopping;
    expect(await refused(() => manager.resume(run.id))).toMatchObject({ code: 'shutting_down' });
  } finally {
    await s.dispose();
  }
});
