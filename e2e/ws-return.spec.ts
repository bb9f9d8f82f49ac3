import { expect, test } from '@playwright/test';
import { useTestServer } from './server';
import { expectStatus, expectStoredEqualsPanels, startBatch, waitForText } from './helpers';

// Slow enough (a run of ~300 pieces lasts ~30 s) that a run started on SSE is still streaming when the
// page takes WebSocket back, ~18 s after the fallback.
const server = useTestServer({ BUILTIN_PIECES_PER_SECOND: '10' });

test('after a fallback, WebSocket is taken back once it works again; a streaming run carries on without a gap', async ({
  page,
}) => {
  test.setTimeout(180_000); // two runs at 10 pieces/s, one after the other
  let blocked = true;
  let passedThrough = 0;
  await page.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    if (!blocked) {
      passedThrough++;
      ws.connectToServer();
      return;
    }
    void ws.close({ code: 1006, reason: 'blocked' }).catch(() => {});
  });
  const users = ['user_0017', 'user_0018'];
  await page.goto(server().url);
  const connection = page.getByTestId('connection');
  await expect(connection).toHaveAttribute('data-transport', 'sse', { timeout: 45_000 });
  await startBatch(page, [users[0]!]);
  await waitForText(page, users[0]!, 30);
  // The proxy lets WebSocket through again: the page notices on its own, without a reload.
  blocked = false;
  await expect(connection).toHaveAttribute('data-transport', 'ws', { timeout: 45_000 });
  await expect(connection).toHaveAttribute('data-state', 'connected');
  // The switch happened mid-run: the panel goes on from the last frame it had over SSE.
  await expectStatus(page, users[0]!, 'streaming', 1000);
  expect(passedThrough).toBeGreaterThanOrEqual(2); // the probe, then the board's own socket

  await page
    .locator(`[data-testid="user-row"][data-user-id="${users[0]}"] [data-testid="user-check"]`)
    .uncheck();
  await startBatch(page, [users[1]!]);
  for (const u of users) await expectStatus(page, u, 'done', 120_000);
  await expectStoredEqualsPanels(page, server(), users);
});
