import { expect, test } from '@playwright/test';
import { useTestServer } from './server';
import { expectStatus, panelText, runIdOf, startBatch } from './helpers';

const TOKEN = 'e2e-secret-token';
const server = useTestServer({ API_TOKEN: TOKEN, BUILTIN_PIECES_PER_SECOND: '400' });

test('a server with API_TOKEN: the UI asks for the token, then works over the cookie', async ({ page }) => {
  await page.goto(server().url);
  const prompt = page.getByTestId('token-prompt');
  await expect(prompt).toBeVisible();
  await prompt.locator('input').fill('wrong-token-123');
  await prompt.getByRole('button').click();
  await expect(prompt.getByRole('alert')).toBeVisible();

  await prompt.locator('input').fill(TOKEN);
  await prompt.getByRole('button').click();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-transport', 'ws');
  await expect(page.getByTestId('token-prompt')).toHaveCount(0);
  await startBatch(page, ['user_0005']);
  await expectStatus(page, 'user_0005', 'done', 30_000);
  const stored = await server().run(await runIdOf(page, 'user_0005'));
  expect(await panelText(page, 'user_0005')).toBe(stored.text);
});
