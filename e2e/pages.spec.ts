import { mkdirSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { useTestServer } from './server';
import { expectStatus, panelOf, panelText, startBatch } from './helpers';

const SHOTS = 'test-results/screenshots';

test.beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});
const server = useTestServer({ BUILTIN_PIECES_PER_SECOND: '400' });

test('events: clicking an event highlights its source behaviours; export links; overall view', async ({
  page,
}) => {
  const done = await server().runToEnd('user_0002');
  await page.goto(`${server().url}/events?user=user_0002`);
  const rows = page.getByTestId('events-view').getByTestId('event-row');
  await expect(rows).toHaveCount(done.events.length);
  await expect(page.getByTestId('behaviour-row').first()).toBeVisible();

  const third = done.events[2]!;
  await rows.nth(2).getByRole('button').click();
  const lit = page.locator('[data-testid="behaviour-row"][data-highlighted="true"]');
  await expect(lit).toHaveCount(third.sourceBehaviorIds.length);
  expect(await lit.evaluateAll((els) => els.map((e) => e.getAttribute('data-behaviour-id')))).toEqual(
    third.sourceBehaviorIds,
  );
  await expect(page.getByTestId('export-csv')).toHaveAttribute(
    'href',
    '/api/v1/events/export?format=csv&userId=user_0002',
  );
  const csv = await page.request.get(`${server().url}/api/v1/events/export?format=csv&userId=user_0002`);
  expect(csv.ok()).toBe(true);
  await page.screenshot({ path: `${SHOTS}/events.png` });

  await page.getByTestId('events-all').click();
  await expect(page).toHaveURL(/\/events$/);
  await expect(page.getByTestId('events-view').getByTestId('event-row').first()).toBeVisible();
});

test('history: a past run opens on the board, replayed from the log', async ({ page }) => {
  const done = await server().runToEnd('user_0003');
  await page.goto(`${server().url}/history?user=user_0003`);
  await page.locator(`[data-testid="history-row"][data-run-id="${done.id}"] button`).click();
  await expect(page.getByTestId('detail-text')).toHaveText(done.text, { useInnerText: false });
  await page.screenshot({ path: `${SHOTS}/history.png` });
  await page.getByTestId('open-on-board').click();
  await expect(page).toHaveURL(new RegExp(`${server().url}/?$`));
  await expect(panelOf(page, 'user_0003')).toHaveAttribute('data-run-id', done.id);
  await expectStatus(page, 'user_0003', 'done', 20_000);
  expect(await panelText(page, 'user_0003')).toBe(done.text);
  // No toast for history: nothing finished just now.
  await expect(page.getByTestId('toast')).toHaveCount(0);
});

test('12 panels with a concurrency limit: queue positions, then all done; English switch', async ({
  page,
}) => {
  const users = Array.from({ length: 12 }, (_, i) => `user_${String(21 + i).padStart(4, '0')}`);
  await page.goto(server().url);
  await page.getByTestId('users-next').click();
  await expect(page.locator('[data-testid="user-row"][data-user-id="user_0021"]')).toBeVisible();
  await startBatch(page, users, 4);
  // Four run, eight wait in order.
  await expect(page.getByTestId('queue-pos').first()).toBeVisible();
  await expect(panelOf(page, 'user_0032').getByTestId('queue-pos')).toHaveText(/8/);
  await page.screenshot({ path: `${SHOTS}/board-12-queued.png` });
  for (const u of users) await expectStatus(page, u, 'done', 120_000);
  const stored = await server().json<{ items: { userId: string; eventCount: number }[] }>('/runs?limit=100');
  for (const u of users) expect(stored.items.some((r) => r.userId === u)).toBe(true);

  // The last run finished a moment ago: its toast is still up, and follows the language switch.
  const toast = page.getByTestId('toast').last();
  await expect(toast).toContainText('抽象完成');
  await page.getByTestId('lang-switch').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByTestId('nav-/')).toHaveText('Board');
  await expect(toast).toContainText('finished:');
  await expect(panelOf(page, users[0]!).getByTestId('status-badge')).toHaveText('Done');
  await page.screenshot({ path: `${SHOTS}/board-12-done-en.png` });
  await page.reload();
  await expect(page.getByTestId('nav-/')).toHaveText('Board');
  await expect(page.getByTestId('run-panel')).toHaveCount(12);
});
