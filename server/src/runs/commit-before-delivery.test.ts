import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunsRepo } from '../db/runs-repo.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { TestWsClient } from '../ws/test-ws-client.js';
import type { FrameSink } from './subscription.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.dispose());

it('a watcher never holds a frame the stored log does not have', async () => {
  // A second connection reads only what is committed: what a restarted process would find.
  const other = new Database(server.dbPath, { readonly: true });
  const stored = new RunsRepo(other);
  const { manager } = server.ctx;
  const run = await manager.start('user_0007');
  const checked: number[] = [];
  const missing: string[] = [];
  let done!: () => void;
  const settled = new Promise<void>((r) => (done = r));
  const sink: FrameSink = {
    send: (json, seq) => {
      // Read now (the SQLite read runs before the first await), compared when it resolves.
      void stored.framesAfter(run.id, seq - 1).then((f) => {
        if (f[0] !== json) missing.push(`seq ${seq}`);
      });
      checked.push(seq);
    },
    congested: () => false,
    onDrain: () => {},
    cork: () => {},
    uncork: () => {},
  };
  await manager.subscribe(run.id, sink, 0, () => done());
  await deadline(settled, 15_000, 'the run to settle');
  other.close();
  expect(missing).toEqual([]);
  expect(checked.length).toBeGreaterThan(20);
  expect(checked).toEqual(checked.map((_, i) => i + 1));
});

describe('a started run is acknowledged only once it is committed', () => {
  // Commits held back 300 ms: an answer sent before its commit would be seen at once.
  let slow: TestServer;
  beforeAll(async () => {
    slow = await startTestServer({ DB_FLUSH_MS: 300 });
  });
  afterAll(() => slow.dispose());
  const storedRun = (runId: string) => {
    const other = new Database(slow.dbPath, { readonly: true });
    try {
      return new RunsRepo(other).summary(runId);
    } finally {
      other.close();
    }
  };

  it('over the WebSocket: the run is in the file when the ack arrives', async () => {
    const c = await TestWsClient.connect(slow);
    try {
      const runId = await c.start('user_0003');
      expect(await storedRun(runId)).toMatchObject({ id: runId, status: 'running' });
    } finally {
      await c.close();
    }
  });

  it('over REST: the run is in the file when POST /runs answers', async () => {
    const res = await fetch(`${slow.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'user_0004' }),
    });
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    expect(await storedRun(runId)).toMatchObject({ id: runId });
  });
});
