import { expect, test } from '@playwright/test';
import { useTestServer } from './server';
import { expectStatus, expectStoredEqualsPanels, startBatch } from './helpers';

const server = useTestServer();

test('a reload while a start is in flight attaches to the run the server started, not a second one', async ({
  page,
}) => {
  const user = 'user_0019';
  let holdReplies = true;
  let starts = 0;
  // A link that delivers the start to the server but loses every reply: the panel stays "starting".
  await page.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((m) => {
      if (typeof m === 'string' && m.includes('"type":"start"')) starts++;
      upstream.send(m);
    });
    upstream.onMessage((m) => {
      if (!holdReplies || !(typeof m === 'string' && /"type":"(ack|start|progress|llm_chunk)"/.test(m))) {
        ws.send(m);
      }
    });
  });
  await page.goto(server().url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await startBatch(page, [user]);
  await expect.poll(() => starts, { timeout: 10_000 }).toBe(1);
  await expectStatus(page, user, 'starting', 2000);
  await expect.poll(async () => (await server().runs(user)).items.length, { timeout: 10_000 }).toBe(1);

  holdReplies = false;
  await page.reload();
  // The saved start key went out again and found the run: one run, shown in full.
  await expectStatus(page, user, 'done', 90_000);
  expect(starts).toBe(2);
  expect((await server().runs(user)).items).toHaveLength(1);
  await expectStoredEqualsPanels(page, server(), [user]);
});
