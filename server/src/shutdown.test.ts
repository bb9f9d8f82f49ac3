import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_GRACE_MS } from './start-server.js';
import { readSse } from './test-support/sse-client.js';
import { spawnServer, type ServerProcess } from './test-support/server-process.js';
import { deadline } from './test-support/test-server.js';
import { poll, TestWsClient } from './ws/test-ws-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stored status of a run, read from the database file the process left. */
function storedStatus(dbPath: string, runId: string): string | undefined {
  const db = new Database(dbPath);
  try {
    return (db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined)
      ?.status;
  } finally {
    db.close();
  }
}

/** A WebSocket client that completes the upgrade and then never answers the closing handshake. */
async function stuckWebSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let head = '';
  socket.on('data', (b: Buffer) => (head += b.toString('latin1')));
  socket.write(
    `GET /api/v1/ws HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await poll(() => (head.startsWith('HTTP/1.1 101') ? true : undefined), 3000, 'raw upgrade');
  return socket;
}

// Each test starts a process (through tsx): more time than the default on a busy machine.
describe('the server process on SIGTERM / SIGINT to its process group', { timeout: 60_000 }, () => {
  let proc: ServerProcess | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await proc?.dispose();
    proc = undefined;
  });

  it('a signal relayed twice (npm, tsx) is one graceful shutdown: every watcher gets `cancelled` (shutdown), exit 0, run stored cancelled', async () => {
    proc = await spawnServer({ BUILTIN_PIECES_PER_SECOND: '20', BUILTIN_FIRST_PIECE_MS: '0' });
    const ws = await TestWsClient.connect(proc);
    const runId = await ws.start('user_0007');
    const sse = readSse(`${proc.url}/api/v1/runs/${runId}/stream`, { timeoutMs: 15_000 });
    const metrics = `${proc.url}/metrics`;
    await poll(
      async () => ((await (await fetch(metrics)).text()).includes('\nes_sse_streams 1') ? true : undefined),
      5000,
      'the SSE watcher to attach',
    );
    await ws.framesOf(runId, 3, 'llm_chunk');

    const t0 = performance.now();
    proc.signalGroup('SIGTERM');
    // What a wrapper relaying the signal it got itself delivers a few ms later.
    await sleep(20);
    proc.signalGroup('SIGTERM');
    const exit = await deadline(proc.exited, 10_000, 'the server to exit');
    const tookMs = performance.now() - t0;
    expect(exit, proc.output()).toEqual({ code: 0, signal: null });
    // Nobody was slow: the shutdown did not sit out the grace a stuck client gets.
    expect(tookMs).toBeLessThan(SHUTDOWN_GRACE_MS);

    const wsLast = ws.frames(runId).at(-1);
    expect(wsLast).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
    const closed = await deadline(ws.closed, 3000, 'the WebSocket close');
    expect(closed.code).toBe(1001);

    const read = await sse;
    expect(read.status).toBe(200);
    expect(read.frames.at(-1)?.frame).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
    expect(read.frames.at(-1)?.frame.seq).toBe(wsLast!.seq);

    expect(storedStatus(proc.dbPath, runId)).toBe('cancelled');
    expect(proc.output()).toMatch(/"msg":"shutting down"/);
  });

  it('SIGINT twice, seconds apart, is still graceful', async () => {
    proc = await spawnServer({ BUILTIN_PIECES_PER_SECOND: '20', BUILTIN_FIRST_PIECE_MS: '0' });
    // A client that never finishes the closing handshake keeps the shutdown going for a while.
    sockets.push(await stuckWebSocket(proc.url));
    const ws = await TestWsClient.connect(proc);
    const runId = await ws.start('user_0007');
    await ws.framesOf(runId, 2, 'llm_chunk');

    proc.signalGroup('SIGINT');
    await sleep(600);
    proc.signalGroup('SIGINT');
    const exit = await deadline(proc.exited, 10_000, 'the server to exit');
    expect(exit, proc.output()).toEqual({ code: 0, signal: null });
    expect(ws.frames(runId).at(-1)).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
    expect(storedStatus(proc.dbPath, runId)).toBe('cancelled');
  });

  it('a third signal during the shutdown forces the exit at once, with a non-zero code and a log line', async () => {
    proc = await spawnServer();
    sockets.push(await stuckWebSocket(proc.url));

    proc.signalGroup('SIGTERM');
    await sleep(400);
    proc.signalGroup('SIGTERM');
    await sleep(400);
    const t0 = performance.now();
    proc.signalGroup('SIGTERM');
    const exit = await deadline(proc.exited, 5000, 'the forced exit');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(exit, proc.output()).toEqual({ code: 143, signal: null });
    expect(proc.output()).toMatch(/"signal":"SIGTERM".*"msg":"[^"]*forc/);
  });
});
