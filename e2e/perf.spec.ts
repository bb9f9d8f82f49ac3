import { expect, test } from '@playwright/test';
import { useTestServer } from './server';
import { expectStatus, panelText, runIdOf, selectUsers, startBatch } from './helpers';
import { mainThreadProfile } from './trace-profile';

// The built-in model at its fastest: pieces back to back, no pacing.
const server = useTestServer({ BUILTIN_PIECES_PER_SECOND: '0', BUILTIN_FIRST_PIECE_MS: '0' });

/**
 * The goal is no task over 50 ms (the RAIL budget). Wall-clock long tasks also count the time the
 * page's thread waited for a core: this box has 2 cores shared with the server at full speed (and other
 * jobs), so the wall-clock bound keeps the allowance it has always had, and the goal is asserted on the
 * thread time each task really used (from a Chrome trace), which machine noise barely moves.
 */
const LONG_TASK_GOAL_MS = 50;
const LONG_TASK_BOUND_MS = Number(process.env.LONG_TASK_BOUND_MS ?? 250);

// No Playwright trace or DOM snapshots while measuring: its page scripts would show up as long tasks.
test.use({ trace: 'off', screenshot: 'off' });

test('8 panels streaming at full speed stay smooth (long tasks measured)', async ({ page, browser }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: number[]; __longFrames: number[]; __frameNotes: string[] };
    w.__longTasks = [];
    w.__longFrames = [];
    w.__frameNotes = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
    // Long animation frames (task + rendering over 50 ms), where supported: printed for information.
    if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          w.__longFrames.push(e.duration);
          // What filled the frame, for the log: scripts (with forced layout) and rendering.
          const f = e as PerformanceEntry & {
            renderStart: number;
            scripts: { invoker: string; duration: number; forcedStyleAndLayoutDuration: number }[];
          };
          const scripts = f.scripts
            .map(
              (x) =>
                `${x.invoker} ${x.duration.toFixed(0)}ms (layout ${x.forcedStyleAndLayoutDuration.toFixed(0)})`,
            )
            .join('; ');
          const render = f.renderStart ? f.startTime + f.duration - f.renderStart : 0;
          w.__frameNotes.push(
            `${f.duration.toFixed(0)}ms: render ${render.toFixed(0)}ms; ${scripts || 'no script'}`,
          );
        }
      }).observe({ type: 'long-animation-frame', buffered: true });
    }
  });
  const users = Array.from({ length: 8 }, (_, i) => `user_${String(1 + i).padStart(4, '0')}`);
  await page.goto(server().url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  // The panels are on the board first: the subject is streaming, not mounting eight panels.
  await selectUsers(page, users);
  await page.getByTestId('batch-add').click();
  await expect(page.getByTestId('run-panel')).toHaveCount(8);
  await page.waitForTimeout(1000);
  await page.evaluate(() => {
    // Page load is not the subject.
    const w = window as unknown as { __longTasks: number[]; __longFrames: number[]; __frameNotes: string[] };
    w.__longTasks.length = 0;
    w.__longFrames.length = 0;
    w.__frameNotes.length = 0;
  });

  await browser.startTracing(page, {
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'],
  });
  const t0 = Date.now();
  await startBatch(page, users, 8);
  // Watch progress on the server, not through the page: polling the DOM would add its own work.
  await expect
    .poll(
      async () => {
        const { items } = await server().json<{ items: { status: string }[] }>('/runs?limit=100');
        return items.length === users.length && items.every((r) => r.status === 'done');
      },
      { timeout: 60_000, intervals: [250] },
    )
    .toBe(true);
  const wall = Date.now() - t0;
  await page.waitForTimeout(500);
  const profile = mainThreadProfile(await browser.stopTracing());
  for (const u of users) await expectStatus(page, u, 'done', 10_000);

  const { tasks, frames, notes } = await page.evaluate(() => {
    const w = window as unknown as { __longTasks: number[]; __longFrames: number[]; __frameNotes: string[] };
    return { tasks: w.__longTasks, frames: w.__longFrames, notes: w.__frameNotes };
  });
  const max = tasks.length ? Math.max(...tasks) : 0;
  const maxFrame = frames.length ? Math.max(...frames) : 0;
  let pieces = 0;
  for (const u of users) {
    const stored = await server().run(await runIdOf(page, u));
    expect(await panelText(page, u)).toBe(stored.text);
    pieces += stored.lastSeq;
  }
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  console.log(
    `[perf] 8 panels, ${pieces} frames in ${wall} ms: ${tasks.length} long tasks, max ${max.toFixed(1)} ms` +
      (tasks.length ? ` (all: ${tasks.map((d) => d.toFixed(0)).join(', ')})` : '') +
      `; ${frames.length} long animation frames, max ${maxFrame.toFixed(1)} ms`,
  );
  for (const n of notes) console.log(`[perf]   long frame ${n}`);
  console.log(
    `[perf] thread time: busiest task ${ms(profile.maxTaskCpuMs)} of ${profile.tasks} tasks; ` +
      `${profile.frameCallbacks} frame callbacks used ${ms(profile.frameCallbackCpuMs)}, ` +
      `${ms(profile.layoutInFrameCallbacksMs)} of it forced style and layout`,
  );
  console.log(
    `[perf] goal: every task < ${LONG_TASK_GOAL_MS} ms — thread time ${profile.maxTaskCpuMs < LONG_TASK_GOAL_MS ? 'met' : 'missed'}, ` +
      `wall clock ${max < LONG_TASK_GOAL_MS ? 'met' : 'missed'}; wall clock asserted < ${LONG_TASK_BOUND_MS} ms ` +
      `(an allowance of ${LONG_TASK_BOUND_MS - LONG_TASK_GOAL_MS} ms for machine noise, LONG_TASK_BOUND_MS)`,
  );
  // The per-frame update writes to the DOM and never reads layout: no forced style or layout in it.
  expect(profile.layoutInFrameCallbacksMs).toBeLessThan(1);
  expect(profile.maxTaskCpuMs).toBeLessThan(LONG_TASK_GOAL_MS);
  expect(max).toBeLessThan(LONG_TASK_BOUND_MS);
});
