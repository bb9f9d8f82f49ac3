import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { expect, test, type WebSocket } from '@playwright/test';
import type { RunFrame } from '@app/shared';
import { LocalCluster } from './cluster-local';
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

/*
 * The set-up of docs/deploy.md for real: scripts/cluster-local.sh starts nginx in front of three instances
 * sharing a throwaway Redis and PostgreSQL; the board works through nginx, and the instance generating its
 * runs is killed with SIGKILL mid-stream. After a failure, test-results/cluster-logs holds every log, what
 * the instances and Redis said about the runs (state.json) and what the board's sockets carried (board.json).
 */

const SHOTS = 'test-results/screenshots';
const LOGS = 'test-results/cluster-logs';
// Short leases: a dead instance's runs go on elsewhere within LEASE_MS + TAKEOVER_CHECK_MS.
const LEASE_MS = 1500;
const TAKEOVER_CHECK_MS = 300;

/** What one board socket carried: when it opened and closed, what it asked, which seqs of each run came. */
interface SocketRecord {
  ws: WebSocket;
  openedAt: number;
  closedAt: number | null;
  sent: string[];
  frames: RunFrame[];
}

let cluster: LocalCluster | undefined;
/** For the files written next to the logs: the runs the test started, the board's sockets, its SSE requests. */
let started: string[] = [];
const board: SocketRecord[] = [];
const sseRequests: string[] = [];
const t0 = Date.now();
const c = (): LocalCluster => {
  if (!cluster) throw new Error('the cluster is not started');
  return cluster;
};

/** Seqs as ranges: 1-106,263-448. */
function ranges(seqs: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < seqs.length;) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    out.push(i === j ? `${seqs[i]}` : `${seqs[i]}-${seqs[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function boardRecord(): object {
  return {
    sockets: board.map((s) => ({
      openedAtMs: s.openedAt - t0,
      closedAtMs: s.closedAt === null ? null : s.closedAt - t0,
      sent: s.sent,
      frames: Object.fromEntries(
        started.map((id) => [id, ranges(s.frames.filter((f) => f.runId === id).map((f) => f.seq))]),
      ),
    })),
    sseRequests,
  };
}

test.beforeAll(async () => {
  // The script may build the server (and the UI) first.
  test.setTimeout(180_000);
  mkdirSync(SHOTS, { recursive: true });
  cluster = await LocalCluster.start({
    LEASE_MS: String(LEASE_MS),
    TAKEOVER_CHECK_MS: String(TAKEOVER_CHECK_MS),
    // 300–450 pieces a run, 10–15 s: long enough to kill an instance mid-stream and see the rest.
    BUILTIN_PIECES_PER_SECOND: '30',
    PROTOCOL_CHECK: 'on',
    // The built-in model, no token: whatever the developer's environment says.
    OPENAI_BASE_URL: '',
    API_TOKEN: '',
  });
});

// While the page is still open (its socket shows in the instances' metrics).
test.afterEach(async () => {
  if (!cluster) return;
  rmSync(LOGS, { recursive: true, force: true });
  mkdirSync(LOGS, { recursive: true });
  writeFileSync(`${LOGS}/state.json`, JSON.stringify(await cluster.state(started), null, 2));
  writeFileSync(`${LOGS}/board.json`, JSON.stringify(boardRecord(), null, 2));
});

test.afterAll(async () => {
  test.setTimeout(60_000);
  if (!cluster) return;
  // Kept for a look after a failure: the script removes its folder when it stops.
  try {
    mkdirSync(LOGS, { recursive: true });
    for (const [name, text] of Object.entries(cluster.logs())) writeFileSync(`${LOGS}/${name}`, text);
    writeFileSync(`${LOGS}/cluster-local.out`, cluster.output);
  } finally {
    await cluster.stop();
  }
});

test('nginx and three instances: a kill -9 of the instance streaming to the board, every run still ends done and equal to its stored log', async ({
  page,
}) => {
  // About 40 s: 10–15 s runs, the takeover, then the same users uninterrupted.
  test.setTimeout(90_000);
  const users = ['user_0001', 'user_0002', 'user_0003'];
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/api/v1/ws')) return;
    const record: SocketRecord = { ws, openedAt: Date.now(), closedAt: null, sent: [], frames: [] };
    board.push(record);
    ws.on('close', () => (record.closedAt = Date.now()));
    ws.on('framesent', ({ payload }) => {
      if (!String(payload).includes('"ping"')) record.sent.push(`${Date.now() - t0} ms ${String(payload)}`);
    });
    ws.on('framereceived', ({ payload }) => {
      const msg = JSON.parse(String(payload)) as { seq?: unknown; runId?: unknown };
      if (typeof msg.seq === 'number' && typeof msg.runId === 'string') record.frames.push(msg as RunFrame);
    });
  });
  page.on('request', (req) => {
    if (req.url().includes('/stream')) sseRequests.push(`${Date.now() - t0} ms ${req.url()}`);
  });
  const connection = page.getByTestId('connection');

  await page.goto(c().url);
  await expect(connection).toHaveAttribute('data-state', 'connected');
  await expect(connection).toHaveAttribute('data-transport', 'ws');
  expect(board, 'the board opened one socket').toHaveLength(1);
  const first = board[0]!;
  // No wait for the socket to count as stable (3 s): one that got the server's hello has worked, so a cut
  // right after the page loaded is a reconnect, not a proxy blocking WebSocket (the board stays on it).
  await startBatch(page, users);
  for (const u of users) await expectStatus(page, u, 'streaming', 20_000);
  for (const u of users) await waitForText(page, u, 80);
  const runIds = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await runIdOf(page, u)])));
  started = Object.values(runIds);
  expect(board.length, 'the board still has its first socket').toBe(1);
  expect(first.ws.isClosed()).toBe(false);

  // Who generates what: the lease of each run in Redis. A run generates where it was started, so all
  // three on the instance the board's socket reached through nginx.
  const owners = users.map((u) => c().owner(runIds[u]!));
  expect(owners[0], `${users[0]}'s run has no lease holder`).toMatch(/^[a-c]$/);
  expect(owners, 'every run generates on the instance of the board socket').toEqual(
    users.map(() => owners[0]),
  );
  const victim = owners[0]!;
  const survivors = [...c().pids.keys()].filter((id) => id !== victim);
  const cut = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await panelText(page, u)])));
  // Watchers straight on each surviving instance, from the first frame: one of them takes each run over
  // (its watcher goes from following Redis to the run in its own memory), the other keeps following it
  // through Redis from its new owner. Neither should notice more than a `resumed` progress frame.
  const watchers = await Promise.all(
    users.flatMap((u) =>
      survivors.map(async (instance) => ({
        user: u,
        instance,
        ...(await c().watch(runIds[u]!, { instance, timeoutMs: 50_000 })),
      })),
    ),
  );

  c().kill9(victim);
  const killedAt = Date.now();

  // Its runs go on at another instance, in time.
  await expect
    .poll(() => users.map((u) => c().owner(runIds[u]!)), {
      timeout: LEASE_MS + TAKEOVER_CHECK_MS + 4000,
      intervals: [100],
      message: `runs of instance ${victim} taken over`,
    })
    .toEqual(users.map(() => expect.stringMatching(new RegExp(`^(?!${victim}$)[a-c]$`))));
  const takeover = `instance ${victim} killed; its runs taken over ${Date.now() - killedAt} ms later by ${users
    .map((u) => c().owner(runIds[u]!))
    .join(', ')}`;
  test.info().annotations.push({ type: 'takeover', description: takeover });
  console.log(`[cluster] ${takeover}`);

  // The board's socket was on the killed instance: it closes and the client reconnects through nginx to
  // another instance, resuming each run from its last seq.
  await expect
    .poll(() => first.ws.isClosed(), { message: 'the socket to the killed instance closed' })
    .toBe(true);
  await expect.poll(() => board.length, { message: 'a new socket opened' }).toBeGreaterThan(1);
  await expect(connection).toHaveAttribute('data-state', 'connected', { timeout: 15_000 });
  await expect(connection).toHaveAttribute('data-transport', 'ws');

  for (const u of users) await expectStatus(page, u, 'done', 40_000);
  // The WebSocket never gave way to SSE (no stream requests): its sockets carried every frame.
  expect(sseRequests, 'the board fell back to SSE').toEqual([]);
  for (const u of users) {
    const runId = runIds[u]!;
    await expect(panelOf(page, u)).toHaveAttribute('data-run-id', runId);
    const stored = await c().run(runId);
    expect(stored.status).toBe('done');
    // What the board shows: nothing shown before the kill was taken back, nothing is missing or doubled.
    expect(stored.text.startsWith(cut[u]!)).toBe(true);
    expect(await panelText(page, u)).toBe(stored.text);
    expect(await panelEvents(page, u)).toEqual(eventKeys(stored.events));
    await expect(panelOf(page, u).getByTestId('progress-percent')).toHaveText('100%');

    // The stored log: seq 1…lastSeq without gaps, one start and one terminal frame, and the takeover in
    // between as one `resumed` progress frame (the same log went on, nothing ended it).
    const log = await c().log(runId);
    expect(log.map((f) => f.seq)).toEqual(Array.from({ length: stored.lastSeq }, (_, i) => i + 1));
    expect(log[0]!.type).toBe('start');
    expect(log.filter((f) => ['done', 'cancelled', 'error'].includes(f.type)).map((f) => f.type)).toEqual([
      'done',
    ]);
    expect(log.at(-1)!.type).toBe('done');
    expect(log.filter((f) => f.type === 'progress' && f.stage === 'resumed')).toHaveLength(1);
    expect(log.flatMap((f) => (f.type === 'llm_chunk' ? [f.content] : [])).join('')).toBe(stored.text);
    // Nothing produced twice: the new owner asked the model only for the lines not yet written; the
    // line the kill cut in half (if any) is the one line rejected.
    expect(stored.rejected.filter((r) => r.code !== 'cut_off')).toEqual([]);
    expect(stored.rejected.length).toBeLessThanOrEqual(1);
    expect(new Set(eventKeys(stored.events)).size).toBe(stored.events.length);

    // The board's sockets carried every frame of that log once, in order…
    expect(
      board.flatMap((s) => s.frames.filter((f) => f.runId === runId)),
      `frames of ${u} over the board's sockets`,
    ).toEqual(log);
    // …and the watchers on the surviving instances followed it through the takeover on one response each.
    for (const w of watchers.filter((w) => w.user === u))
      expect(await w.frames, `frames of ${u} at instance ${w.instance}`).toEqual(log);

    const listed = (await c().runs(u)).items.find((r) => r.id === runId);
    expect(listed?.status).toBe('done');
    // The board's user list shows the last run of each.
    await expect(
      page.locator(`[data-testid="user-row"][data-user-id="${u}"] [data-testid="status-badge"]`),
    ).toHaveAttribute('data-status', 'done');
  }
  await expect(page.locator('[data-testid="toast"][data-kind="error"]')).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/cluster-done.png`, fullPage: false });
  // Each run was taken over once, by one instance; no instance logged an error.
  expect(await c().metric('es_cluster_runs_taken_over'), 'takeovers').toBe(users.length);
  expect(c().errorLines()).toEqual([]);

  // The events are those of runs nobody interrupted: the same users again, on the instances left.
  const references = await Promise.all(users.map((u) => c().runToEnd(u)));
  for (const [i, u] of users.entries()) {
    expect(references[i]!.status).toBe('done');
    const stored = await c().run(runIds[u]!);
    expect(eventFacts(stored.events), `events of ${u}`).toEqual(eventFacts(references[i]!.events));
  }

  // The history page, through nginx, lists both runs of each user, done.
  for (const [i, u] of users.entries()) {
    await page.goto(`${c().url}/history?user=${u}`);
    for (const id of [runIds[u]!, references[i]!.id])
      await expect(
        page.locator(`[data-testid="history-row"][data-run-id="${id}"] [data-testid="status-badge"]`),
      ).toHaveAttribute('data-status', 'done');
  }
  await page.screenshot({ path: `${SHOTS}/cluster-history.png`, fullPage: false });
});
