import { expect, type Locator, type Page } from '@playwright/test';
import type { ExtractedEvent } from '@app/shared';

/** The board panel of a user. */
export const panelOf = (page: Page, userId: string): Locator =>
  page.locator(`[data-testid="run-panel"][data-user-id="${userId}"]`);

/** Ticks users in the list (first page holds user_0001…user_0020). */
export async function selectUsers(page: Page, userIds: string[]): Promise<void> {
  for (const id of userIds) {
    const box = page.locator(`[data-testid="user-row"][data-user-id="${id}"] [data-testid="user-check"]`);
    await box.check();
  }
}

/** Ticks the users and starts them as a batch. */
export async function startBatch(page: Page, userIds: string[], concurrency = userIds.length): Promise<void> {
  await selectUsers(page, userIds);
  await page.getByTestId('batch-concurrency').fill(String(concurrency));
  await page.getByTestId('batch-start').click();
}

export async function expectStatus(
  page: Page,
  userId: string,
  status: string,
  timeout = 60_000,
): Promise<void> {
  await expect(panelOf(page, userId)).toHaveAttribute('data-status', status, { timeout });
}

export async function runIdOf(page: Page, userId: string, timeout = 15_000): Promise<string> {
  const panel = panelOf(page, userId);
  await expect(panel).toHaveAttribute('data-run-id', /^run_/, { timeout });
  return (await panel.getAttribute('data-run-id'))!;
}

export async function panelText(page: Page, userId: string): Promise<string> {
  return (await panelOf(page, userId).getByTestId('panel-text').textContent()) ?? '';
}

/** Waits (bounded) until the panel shows some model text. */
export async function waitForText(
  page: Page,
  userId: string,
  minChars: number,
  timeout = 30_000,
): Promise<void> {
  await expect
    .poll(async () => (await panelText(page, userId)).length, { timeout, intervals: [100] })
    .toBeGreaterThanOrEqual(minChars);
}

/** Rows of a panel's event table as [eventType, sources] pairs. */
export async function panelEvents(page: Page, userId: string): Promise<string[]> {
  const rows = panelOf(page, userId).getByTestId('event-row');
  return rows.evaluateAll((els) =>
    els.map((el) => `${el.getAttribute('data-event-type')}|${el.getAttribute('data-sources')}`),
  );
}

export const eventKeys = (events: ExtractedEvent[]): string[] =>
  events.map((e) => `${e.eventType}|${e.sourceBehaviorIds.join(',')}`);

/** What makes two events the same, whatever run produced them. */
export const eventFacts = (events: ExtractedEvent[]) =>
  events.map(({ eventType, startTime, endTime, sourceBehaviorIds, summary }) => ({
    eventType,
    startTime,
    endTime,
    sourceBehaviorIds,
    summary,
  }));

/** Each user's run ended `done`, and its panel shows exactly the stored text and events. */
export async function expectStoredEqualsPanels(
  page: Page,
  server: { run(runId: string): Promise<{ status: string; text: string; events: ExtractedEvent[] }> },
  users: string[],
): Promise<void> {
  for (const u of users) {
    const stored = await server.run(await runIdOf(page, u));
    expect(stored.status).toBe('done');
    expect(await panelText(page, u)).toBe(stored.text);
    expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
  }
}
