import { mkdirSync } from 'node:fs';
import { expect, test, type WebSocketRoute } from '@playwright/test';
import { useTestServer } from './server';
import {
  eventFacts,
  eventKeys,
  expectStatus,
  panelEvents,
  panelOf,
  panelText,
  runIdOf,
  startBatch,
  waitForText,
} from './helpers';

const SHOTS = 'test-results/screenshots';

test.beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});
const server = useTestServer();

test('three users stream side by side and end equal to the stored runs', async ({ page }) => {
  const users = ['user_0001', 'user_0002', 'user_0003'];
  await page.goto(server().url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('model-name')).toHaveText(/\S/);
  await startBatch(page, users);

  // All three stream at once.
  for (const u of users) await expectStatus(page, u, 'streaming', 20_000);
  // Mid-stream: text flowing, the first events parsed, progress moving.
  for (const u of users) await waitForText(page, u, 350);
  await page.screenshot({ path: `${SHOTS}/board-streaming.png`, fullPage: false });

  // Scrolling up stops following the live text; "jump to live" brings it back.
  const first = panelOf(page, users[0]!);
  const text = first.getByTestId('panel-text');
  await waitForText(page, users[0]!, 450);
  await text.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(first.getByTestId('jump-live')).toBeVisible();
  const length = (await panelText(page, users[0]!)).length;
  await expect.poll(async () => (await panelText(page, users[0]!)).length).toBeGreaterThan(length + 20);
  expect(await text.evaluate((el) => el.scrollTop)).toBe(0);
  await first.getByTestId('jump-live').click();
  await expect(first.getByTestId('jump-live')).toBeHidden();
  expect(await text.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(8);

  for (const u of users) await expectStatus(page, u, 'done', 90_000);
  for (const u of users) {
    const runId = await runIdOf(page, u);
    const stored = await server().run(runId);
    expect(stored.status).toBe('done');
    expect(await panelText(page, u)).toBe(stored.text);
    expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
    await expect(panelOf(page, u).getByTestId('progress-percent')).toHaveText('100%');
  }
  await expect(page.getByTestId('toast').first()).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/board-done.png`, fullPage: false });
});

test('cancel one mid-stream, the others go on; resumed, it ends with the events of an uninterrupted run', async ({
  page,
}) => {
  const users = ['user_0004', 'user_0005', 'user_0006'];
  const victim = 'user_0004';
  // The reference: the same user's run, never interrupted (the built-in model is deterministic).
  const reference = server().runToEnd(victim);
  await page.goto(server().url);
  await startBatch(page, users);
  for (const u of users) await expectStatus(page, u, 'streaming', 20_000);
  await waitForText(page, victim, 150);

  await panelOf(page, victim).getByTestId('btn-cancel').click();
  await expectStatus(page, victim, 'cancelled', 15_000);
  const cutText = await panelText(page, victim);
  // The others keep streaming.
  for (const u of users.filter((x) => x !== victim)) {
    await expect(panelOf(page, u)).toHaveAttribute('data-status', /streaming|done/);
  }
  const before = await server().run(await runIdOf(page, victim));
  expect(before.status).toBe('cancelled');
  expect(cutText).toBe(before.text);
  await expect(page.locator('[data-testid="toast"][data-kind="info"]')).toBeVisible();

  await panelOf(page, victim).getByTestId('btn-resume').click();
  await expectStatus(page, victim, 'done', 90_000);
  for (const u of users) await expectStatus(page, u, 'done', 90_000);

  const runId = await runIdOf(page, victim);
  const stored = await server().run(runId);
  const text = await panelText(page, victim);
  expect(text).toBe(stored.text);
  expect(text.startsWith(cutText)).toBe(true);
  expect(await panelEvents(page, victim)).toEqual(eventKeys(stored.events));
  expect(eventFacts(stored.events)).toEqual(eventFacts((await reference).events));
});

test('a reload mid-stream re-attaches every panel without duplicated or missing text', async ({ page }) => {
  const users = ['user_0007', 'user_0008', 'user_0009'];
  await page.goto(server().url);
  await startBatch(page, users);
  for (const u of users) await waitForText(page, u, 100);
  const runIds = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await runIdOf(page, u)])));

  await page.reload();
  for (const u of users) {
    await expect(panelOf(page, u)).toHaveAttribute('data-run-id', runIds[u]!);
  }
  // Mid-stream still: the panels continue live.
  await expect(page.locator('[data-testid="run-panel"][data-status="streaming"]').first()).toBeVisible();
  for (const u of users) await expectStatus(page, u, 'done', 90_000);
  for (const u of users) {
    const stored = await server().run(runIds[u]!);
    expect(await panelText(page, u)).toBe(stored.text);
    expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
  }
});

test('a dropped connection mid-stream: reconnects, re-subscribes from the last seq, nothing lost or doubled', async ({
  page,
}) => {
  // Every socket goes through a proxy the test can cut, like a flaky network would.
  const open: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    ws.connectToServer();
    open.push(ws);
  });
  const users = ['user_0017', 'user_0018', 'user_0019'];
  await page.goto(server().url);
  await startBatch(page, users);
  for (const u of users) await waitForText(page, u, 120);

  await open.at(-1)!.close({ code: 1006, reason: 'network drop' });
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected', {
    timeout: 15_000,
  });
  expect(open.length).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-transport', 'ws');

  for (const u of users) await expectStatus(page, u, 'done', 90_000);
  for (const u of users) {
    const stored = await server().run(await runIdOf(page, u));
    expect(await panelText(page, u)).toBe(stored.text);
    expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
  }
});
