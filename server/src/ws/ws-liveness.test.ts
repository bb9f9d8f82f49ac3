import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { getRun, poll, TestWsClient } from './test-ws-client.js';

describe('heartbeat', () => {
  const INTERVAL = 1000;
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ WS_HEARTBEAT_MS: INTERVAL });
  });
  afterAll(() => s.dispose());

  it('drops a peer that stops answering pings within two intervals; a normal peer stays', async () => {
    const good = await TestWsClient.connect(s);
    let goodPings = 0;
    good.ws.on('ping', () => goodPings++);
    const t0 = performance.now();
    const silent = await TestWsClient.connect(s, { autoPong: false });
    expect(silent.hello().limits.heartbeatMs).toBe(INTERVAL);
    let silentPings = 0;
    silent.ws.on('ping', () => silentPings++);

    const closed = await deadline(silent.closed, 2 * INTERVAL + 1500, 'the silent peer being dropped');
    expect(closed.at - t0).toBeLessThan(2 * INTERVAL + 300);
    expect(closed.code).toBe(1006); // terminated, no closing handshake
    expect(silentPings).toBeGreaterThanOrEqual(1);

    // The answering peer survives another full interval and still works.
    await new Promise((r) => setTimeout(r, INTERVAL + 100));
    expect(good.closedWith).toBeNull();
    expect(goodPings).toBeGreaterThanOrEqual(2);
    await good.alive();
    await good.close();
  });
});

describe('unwatched-run policy', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      UNWATCHED_RUN_TIMEOUT_S: 1,
      BUILTIN_PIECES_PER_SECOND: 40,
      BUILTIN_FIRST_PIECE_MS: 0,
    });
  });
  afterAll(() => s.dispose());

  it('cancels a run whose only socket went away, with reason `unwatched`; a watched run goes on', async () => {
    const watcher = await TestWsClient.connect(s);
    const watched = await watcher.start('user_0003');
    const leaver = await TestWsClient.connect(s);
    const abandoned = await leaver.start('user_0007');
    await leaver.framesOf(abandoned, 3, 'llm_chunk');
    await leaver.close();
    const left = performance.now();

    const status = await poll(
      async () => {
        const r = await getRun(s, abandoned);
        return r.status === 'running' ? undefined : r.status;
      },
      4000,
      'the abandoned run to end',
    );
    const endedAfter = performance.now() - left;
    expect(status).toBe('cancelled');
    expect(endedAfter).toBeGreaterThan(900);
    expect(endedAfter).toBeLessThan(2500);

    const reader = await TestWsClient.connect(s);
    await reader.request({ type: 'subscribe', runId: abandoned, after: 0 });
    const frames = await reader.settled(abandoned, 3000);
    expect(frames.at(-1)).toMatchObject({ type: 'cancelled', reason: 'unwatched' });
    const stored = await getRun(s, abandoned);
    expect(stored.usage?.estimated).toBe(true);
    expect(stored.text.length).toBeGreaterThan(0);
    await reader.close();

    // Watched all along, well past the timeout: still running, still streaming.
    await new Promise((r) => setTimeout(r, 500));
    expect((await getRun(s, watched)).status).toBe('running');
    const n = watcher.frames(watched).length;
    await watcher.framesOf(watched, n + 2);
    expect(watcher.frames(watched).some((f) => f.type === 'cancelled')).toBe(false);
    await watcher.request({ type: 'cancel', runId: watched });
    await watcher.settled(watched);
    await watcher.close();
  });
});
