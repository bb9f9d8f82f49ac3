import { expect, test, type Locator, type Page } from '@playwright/test';
import { useTestServer } from './server';
import { panelOf, runIdOf } from './helpers';
import { mainThreadProfile } from './trace-profile';

// The built-in model at 4,000 pieces a second per call (two chunk calls at once, a later chunk's buffered
// text arriving in a burst): the 5,000-behaviour run takes ~23 s here. Unpaced, the server sends ~130,000
// frames in 10–15 s, faster than a page can take WebSocket messages on this shared 2-core machine.
const server = useTestServer({ BUILTIN_PIECES_PER_SECOND: '4000', BUILTIN_FIRST_PIECE_MS: '0' });

const USER = 'user_0063';
/** Same goal and wall-clock allowance as perf.spec.ts (see there why the two differ). */
const LONG_TASK_GOAL_MS = 50;
const LONG_TASK_BOUND_MS = Number(process.env.LONG_TASK_BOUND_MS ?? 250);
/**
 * How long after the server's finish the panel may show `done` (measured 0.7–0.8 s on a quiet machine and
 * up to 4.4 s while other suites ran; it was 22–50 s before the long lists were windowed). The allowance
 * is for this shared machine's load and still fails that regression by far.
 */
const DONE_LAG_BOUND_MS = Number(process.env.DONE_LAG_BOUND_MS ?? 8_000);
const EVENTS_RENDER_BOUND_MS = 1_500;
/** A reload also loads the app, and the board re-attaches its panel (replaying the run's log) meanwhile. */
const EVENTS_RELOAD_BOUND_MS = 2_500;
/** Thread time is sampled over this window late in the stream, when the panel's lists are longest. */
const TRACE_WINDOW_MS = 2_000;

test.use({ trace: 'off', screenshot: 'off' });

type Probe = { __longTasks: number[]; __doneAt: number | null };
const probe = (page: Page): Promise<Probe> =>
  page.evaluate(() => {
    const w = window as unknown as Probe;
    return { __longTasks: w.__longTasks, __doneAt: w.__doneAt };
  });

/** Neighbouring rows (in the page, by position) that overlap or leave a gap, as "id→id: px". */
const overlaps = (rows: Locator): Promise<string[]> =>
  rows.evaluateAll((els) => {
    const boxes = (els as HTMLElement[])
      .map((el) => ({ id: el.dataset.line ?? el.dataset.behaviourId, top: el.offsetTop, h: el.offsetHeight }))
      .sort((a, b) => a.top - b.top);
    return boxes.slice(1).flatMap((b, i) => {
      const gap = b.top - (boxes[i]!.top + boxes[i]!.h);
      return Math.abs(gap) > 1 ? [`${boxes[i]!.id}→${b.id}: ${gap}`] : [];
    });
  });

test('a 5,000-behaviour run: the panel keeps up without long tasks, and its events page renders at once', async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  await page.addInitScript(() => {
    const w = window as unknown as Probe;
    w.__longTasks = [];
    w.__doneAt = null;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
    // When a panel first says done (wall clock, comparable with the server's finishedAt), without polling.
    new MutationObserver((records) => {
      for (const r of records) {
        const el = r.target as Element;
        if (w.__doneAt === null && el.getAttribute('data-status') === 'done') w.__doneAt = Date.now();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-status'] });
  });

  await page.goto(server().url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await page.getByTestId('user-search').fill(USER);
  await page.locator(`[data-testid="user-row"][data-user-id="${USER}"] [data-testid="user-check"]`).check();
  await page.getByTestId('batch-add').click();
  await expect(panelOf(page, USER)).toHaveCount(1);
  await page.waitForTimeout(500);
  await page.evaluate(() => {
    (window as unknown as Probe).__longTasks.length = 0;
  });

  await page.getByTestId('batch-start').click();
  const runId = await runIdOf(page, USER);
  // A trace of the whole run would record several events per message and slow the page it measures:
  // thread time is sampled over a window once most of the history is on the panel.
  await expect
    .poll(
      async () =>
        Number.parseInt((await panelOf(page, USER).getByTestId('progress-percent').textContent()) ?? ''),
      {
        timeout: 60_000,
        intervals: [500],
      },
    )
    .toBeGreaterThanOrEqual(60);
  await browser.startTracing(page, {
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'],
  });
  await page.waitForTimeout(TRACE_WINDOW_MS);
  const profile = mainThreadProfile(await browser.stopTracing());

  // The server's side, from the server: polling the page would add its own work.
  await expect
    .poll(async () => (await server().run(runId)).status, { timeout: 60_000, intervals: [250] })
    .toBe('done');
  const stored = await server().run(runId);
  await expect
    .poll(async () => (await probe(page)).__doneAt, { timeout: 60_000, intervals: [250] })
    .not.toBeNull();
  const { __doneAt: panelDoneAt, __longTasks: tasks } = await probe(page);
  const serverDoneAt = Date.parse(stored.finishedAt!);
  const started = Date.parse(stored.createdAt);
  const lag = panelDoneAt! - serverDoneAt;
  const maxTask = tasks.reduce((a, b) => Math.max(a, b), 0);
  console.log(
    `[long] ${USER}: ${stored.lastSeq} frames, ${stored.eventCount} events; server done after ` +
      `${serverDoneAt - started} ms, panel done after ${panelDoneAt! - started} ms (lag ${lag} ms, bound ${DONE_LAG_BOUND_MS})`,
  );
  console.log(
    `[long] while streaming: ${tasks.length} long tasks (wall clock), max ${maxTask.toFixed(0)} ms; ` +
      `thread time over ${TRACE_WINDOW_MS} ms: busiest task ${profile.maxTaskCpuMs.toFixed(1)} ms of ${profile.tasks}, ` +
      `frame callbacks ${profile.frameCallbackCpuMs.toFixed(0)} ms`,
  );
  await expect(panelOf(page, USER).getByTestId('stat-events')).toHaveText(String(stored.eventCount));
  expect(lag).toBeLessThan(DONE_LAG_BOUND_MS);
  expect(profile.maxTaskCpuMs).toBeLessThan(LONG_TASK_GOAL_MS);
  expect(maxTask).toBeLessThan(LONG_TASK_BOUND_MS);

  // The events page of that run: from the panel's first event (in the app), then loaded afresh.
  const events = page.getByTestId('events-view').getByTestId('event-table');
  const rows = events.getByTestId('event-row');
  let t0 = Date.now();
  await panelOf(page, USER).getByTestId('event-row').first().getByRole('link').click();
  await expect(rows.first()).toBeVisible();
  const inApp = Date.now() - t0;
  await expect(page.getByTestId('events-count')).toHaveText(new RegExp(`^${stored.eventCount}\\D`));

  t0 = Date.now();
  await page.reload();
  await expect(rows.first()).toBeVisible();
  const fresh = Date.now() - t0;
  await expect(page.getByTestId('events-count')).toHaveText(new RegExp(`^${stored.eventCount}\\D`));
  await expect(page.getByTestId('behaviour-row').first()).toBeVisible();
  const counted = Date.now() - t0;
  // Only the rows in view are in the page; the end of the list shows the last event.
  expect(await rows.count()).toBeLessThan(200);
  const last = stored.events.at(-1)!;
  await expect
    .poll(
      async () => {
        await events.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
        return rows.last().getAttribute('data-line');
      },
      { timeout: 10_000, intervals: [200] },
    )
    .toBe(String(last.lineNo));
  await expect(rows.last()).toBeInViewport();
  // Rows placed by offset sit edge to edge (a row measured short would hide part of the next one).
  expect(await overlaps(rows)).toEqual([]);
  await page
    .getByTestId('behaviour-timeline')
    .locator('.scroller')
    .evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
  await expect.poll(() => overlaps(page.getByTestId('behaviour-row')), { timeout: 5_000 }).toEqual([]);
  // A link to an event deep in the list lands on it, highlighted.
  const deep = stored.events[Math.floor(stored.events.length * 0.7)]!;
  await page.goto(`${server().url}/events?user=${USER}&run=${runId}&line=${deep.lineNo}`);
  const target = events.locator(`[data-testid="event-row"][data-line="${deep.lineNo}"]`);
  await expect(target).toBeInViewport();
  await expect(target).toHaveClass(/selected/);
  console.log(
    `[long] events page: first rows ${inApp} ms after the panel's link, ${fresh} ms after a reload ` +
      `(${stored.eventCount} events counted and the timeline shown after ${counted} ms), ${await rows.count()} rows in the page`,
  );
  expect(inApp).toBeLessThan(EVENTS_RENDER_BOUND_MS);
  expect(fresh).toBeLessThan(EVENTS_RELOAD_BOUND_MS);
});
