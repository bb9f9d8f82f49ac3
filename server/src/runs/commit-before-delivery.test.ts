import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RunsRepo } from '../db/runs-repo.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
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
  const run = manager.start('user_0007');
  const checked: number[] = [];
  const missing: string[] = [];
  let done!: () => void;
  const settled = new Promise<void>((r) => (done = r));
  const sink: FrameSink = {
    send: (json, seq) => {
      if (stored.framesAfter(run.id, seq - 1)[0] !== json) missing.push(`seq ${seq}`);
      checked.push(seq);
    },
    congested: () => false,
    onDrain: () => {},
    cork: () => {},
    uncork: () => {},
  };
  manager.subscribe(run.id, sink, 0, () => done());
  await deadline(settled, 15_000, 'the run to settle');
  other.close();
  expect(missing).toEqual([]);
  expect(checked.length).toBeGreaterThan(20);
  expect(checked).toEqual(checked.map((_, i) => i + 1));
});
