import { expect, test } from '@playwright/test';
import { useTestServer } from './server';
import { expectStatus, expectStoredEqualsPanels, panelOf, startBatch, waitForText } from './helpers';

const server = useTestServer();

test('WebSocket upgrade blocked: falls back to SSE + REST, cancel and resume included', async ({ page }) => {
  let attempts = 0;
  // A proxy that refuses the upgrade: every socket is closed at once, nothing reaches the server.
  await page.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    attempts++;
    void ws.close({ code: 1006, reason: 'blocked' }).catch(() => {});
  });
  const users = ['user_0013', 'user_0014'];
  await page.goto(server().url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-transport', 'sse', { timeout: 45_000 });
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  expect(attempts).toBeGreaterThanOrEqual(3);

  await startBatch(page, users);
  for (const u of users) await expectStatus(page, u, 'streaming', 20_000);
  await waitForText(page, users[0]!, 120);
  await panelOf(page, users[0]!).getByTestId('btn-cancel').click();
  await expectStatus(page, users[0]!, 'cancelled', 15_000);
  await panelOf(page, users[0]!).getByTestId('btn-resume').click();
  for (const u of users) await expectStatus(page, u, 'done', 90_000);
  await expectStoredEqualsPanels(page, server(), users);
});

test('no WebSocket in the browser at all: SSE from the start, and after a reload', async ({ page }) => {
  await page.addInitScript(() => {
    // @ts-expect-error: simulating a browser (or proxy setup) without WebSocket
    delete window.WebSocket;
  });
  const users = ['user_0015', 'user_0016'];
  await page.goto(server().url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-transport', 'sse');
  await startBatch(page, users);
  for (const u of users) await waitForText(page, u, 100);
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-transport', 'sse');
  for (const u of users) await expectStatus(page, u, 'done', 90_000);
  await expectStoredEqualsPanels(page, server(), users);
});
