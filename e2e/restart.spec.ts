import { expect, test } from '@playwright/test';
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

test.describe('by default a restart continues what a crash interrupted', () => {
  const server = useTestServer();

  test('after a kill -9 mid-stream every panel goes on by itself and ends with the uninterrupted events', async ({
    page,
  }) => {
    const users = ['user_0015', 'user_0016'];
    await page.goto(server().url);
    await startBatch(page, users);
    for (const u of users) await waitForText(page, u, 150);
    const runIds = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await runIdOf(page, u)])));
    const cut = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await panelText(page, u)])));

    await server().stop('SIGKILL');
    await server().start();
    for (const u of users) await expectStatus(page, u, 'done', 90_000);
    for (const u of users) {
      await expect(panelOf(page, u)).toHaveAttribute('data-run-id', runIds[u]!);
      const stored = await server().run(runIds[u]!);
      expect(stored.status).toBe('done');
      // Nothing the panel showed before the crash was taken back, and nothing is doubled.
      expect(stored.text.startsWith(cut[u]!)).toBe(true);
      expect(await panelText(page, u)).toBe(stored.text);
      expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
      const reference = await server().runToEnd(u);
      expect(eventFacts(stored.events)).toEqual(eventFacts(reference.events));
    }
  });
});

test.describe('with RESUME_INTERRUPTED=off a person resumes', () => {
  const server = useTestServer({ RESUME_INTERRUPTED: 'off' });

  test('a server crash mid-stream leaves interrupted panels with their text; one click resumes each', async ({
    page,
  }) => {
    const users = ['user_0010', 'user_0011', 'user_0012'];
    await page.goto(server().url);
    await startBatch(page, users);
    for (const u of users) await waitForText(page, u, 150);
    const runIds = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await runIdOf(page, u)])));

    await server().stop('SIGKILL');
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', /reconnecting|offline/, {
      timeout: 15_000,
    });
    await server().start();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected', {
      timeout: 30_000,
    });

    for (const u of users) {
      await expectStatus(page, u, 'interrupted', 30_000);
      await expect(panelOf(page, u)).toHaveAttribute('data-run-id', runIds[u]!);
      const stored = await server().run(runIds[u]!);
      expect(stored.status).toBe('interrupted');
      // Text intact: what the panel shows is exactly what the server kept.
      expect(stored.text.length).toBeGreaterThan(0);
      await expect.poll(() => panelText(page, u), { timeout: 10_000 }).toBe(stored.text);
    }
    await expect(page.locator('[data-testid="toast"][data-kind="warning"]').first()).toBeVisible();

    for (const u of users) await panelOf(page, u).getByTestId('btn-resume').click();
    for (const u of users) await expectStatus(page, u, 'done', 90_000);
    for (const u of users) {
      const stored = await server().run(runIds[u]!);
      expect(stored.status).toBe('done');
      expect(await panelText(page, u)).toBe(stored.text);
      expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
    }
  });

  test('the same over SSE (no WebSocket): after the crash the panels settle as interrupted and resume', async ({
    page,
  }) => {
    await page.addInitScript(() => {
      // @ts-expect-error: a browser without WebSocket
      delete window.WebSocket;
    });
    const users = ['user_0013', 'user_0014'];
    await page.goto(server().url);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-transport', 'sse');
    await startBatch(page, users);
    for (const u of users) await waitForText(page, u, 150);
    const runIds = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await runIdOf(page, u)])));

    await server().stop('SIGKILL');
    await server().start();
    for (const u of users) {
      await expectStatus(page, u, 'interrupted', 30_000);
      const stored = await server().run(runIds[u]!);
      await expect.poll(() => panelText(page, u), { timeout: 10_000 }).toBe(stored.text);
    }
    for (const u of users) await panelOf(page, u).getByTestId('btn-resume').click();
    for (const u of users) await expectStatus(page, u, 'done', 90_000);
    for (const u of users) {
      const stored = await server().run(runIds[u]!);
      expect(await panelText(page, u)).toBe(stored.text);
      expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
    }
  });
});
