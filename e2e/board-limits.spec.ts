import { expect, test, type Page } from '@playwright/test';
import { useTestServer, type TestServer } from './server';
import { expectStatus, expectStoredEqualsPanels, panelOf, startBatch } from './helpers';

// Runs last several seconds each, so what the board holds back is visible while the first ones stream.
const PACE = { BUILTIN_PIECES_PER_SECOND: '30' };

/** Every panel's status, in the order given. */
const statuses = (page: Page, users: string[]) =>
  Promise.all(users.map((u) => panelOf(page, u).getAttribute('data-status')));

/**
 * Polls the server until every run of `users` is done; returns the most runs it saw running at once
 * (the board must never have more going than its limit; a poll may miss a brief overlap, never invent one).
 */
async function mostRunningUntilDone(
  server: TestServer,
  users: string[],
  timeoutMs = 120_000,
): Promise<number> {
  let most = 0;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { items } = await server.json<{ items: { userId: string; status: string }[] }>('/runs?limit=100');
    const mine = items.filter((r) => users.includes(r.userId));
    most = Math.max(most, mine.filter((r) => r.status === 'running').length);
    if (mine.length === users.length && mine.every((r) => r.status === 'done')) return most;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the runs of ${users.join(', ')} did not all end within ${timeoutMs} ms`);
}

test.describe('a server with WS_MAX_RUNS_PER_SOCKET=2', () => {
  const server = useTestServer({ ...PACE, WS_MAX_RUNS_PER_SOCKET: '2' });

  test('the board starts two runs at once and queues the rest, without a refused start', async ({ page }) => {
    const users = ['user_0001', 'user_0002', 'user_0003', 'user_0004'];
    await page.goto(server().url);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
    // The server's hello set the limit: the concurrency field offers no more.
    await expect(page.getByTestId('batch-concurrency')).toHaveAttribute('max', '2');

    await startBatch(page, users, 4);
    await expect
      .poll(() => statuses(page, users), { timeout: 20_000 })
      .toEqual(['streaming', 'streaming', 'queued', 'queued']);
    await expect(panelOf(page, users[3]!).getByTestId('queue-pos')).toHaveText(/2/);

    // A single start waits too, first in line, instead of being refused by the server.
    const single = 'user_0005';
    await page
      .locator(`[data-testid="user-row"][data-user-id="${single}"] [data-testid="user-check"]`)
      .check();
    await page.getByTestId('batch-add').click();
    await panelOf(page, single).getByTestId('btn-start').click();
    await expectStatus(page, single, 'queued', 5000);
    await expect(panelOf(page, single).getByTestId('queue-pos')).toHaveText(/1/);

    const all = [...users, single];
    expect(await mostRunningUntilDone(server(), all)).toBeLessThanOrEqual(2);
    for (const u of all) await expectStatus(page, u, 'done', 30_000);
    await expect(page.locator('[data-testid="toast"][data-kind="error"]')).toHaveCount(0);
    await expectStoredEqualsPanels(page, server(), all);
  });
});

test.describe('a server with the default limit (8)', () => {
  const server = useTestServer(PACE);

  test('the same batch of four streams at once', async ({ page }) => {
    const users = ['user_0006', 'user_0007', 'user_0008', 'user_0009'];
    await page.goto(server().url);
    await expect(page.getByTestId('batch-concurrency')).toHaveAttribute('max', '8');
    await startBatch(page, users, 4);
    await expect.poll(() => statuses(page, users), { timeout: 20_000 }).toEqual(Array(4).fill('streaming'));
    expect(await mostRunningUntilDone(server(), users)).toBeLessThanOrEqual(4);
  });

  test('over SSE (no hello) the board keeps at most 4 runs live', async ({ page }) => {
    await page.addInitScript(() => {
      // @ts-expect-error: simulating a browser (or proxy setup) without WebSocket
      delete window.WebSocket;
    });
    const users = ['user_0010', 'user_0011', 'user_0012', 'user_0013', 'user_0014'];
    await page.goto(server().url);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-transport', 'sse');
    await expect(page.getByTestId('batch-concurrency')).toHaveAttribute('max', '4');
    await startBatch(page, users, 8);
    await expect
      .poll(() => statuses(page, users), { timeout: 20_000 })
      .toEqual(['streaming', 'streaming', 'streaming', 'streaming', 'queued']);
    expect(await mostRunningUntilDone(server(), users)).toBeLessThanOrEqual(4);
    await expectStoredEqualsPanels(page, server(), users);
  });
});
