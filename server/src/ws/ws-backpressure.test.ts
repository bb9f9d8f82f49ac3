import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { Behaviour } from '@app/shared';
import type { ClosedEvent } from '../model/index.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';
import { serverSockets } from './attach-websocket.js';
import { oneTo, seqs, storedFrames, TestWsClient } from './test-ws-client.js';

const HIGH_WATER = 16 * 1024;
/**
 * Behaviours of the long run's user, one per day so each becomes its own event line: about 4 KB of
 * frames each, so the run (~6.5 MB) outgrows what the kernel's socket buffers absorb from a paused reader.
 */
const BEHAVIOURS = 2000;
const ACTIONS = ['浏览车型', '到店', '预约试驾', '试驾', '询价', '下单'];

const tcp = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;

describe('backpressure', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      WS_HIGH_WATER_BYTES: HIGH_WATER,
      BUILTIN_PIECES_PER_SECOND: 0,
      BUILTIN_FIRST_PIECE_MS: 0,
      PROMPT_BUDGET_CHARS: 1_000_000,
    });
    const day0 = Date.UTC(2020, 0, 1);
    const behaviours: Behaviour[] = Array.from({ length: BEHAVIOURS }, (_, i) => ({
      id: `long-${i}`,
      userId: 'user_long',
      ts: `${new Date(day0 + i * 86_400_000).toISOString().slice(0, 10)} 10:00`,
      action: ACTIONS[i % ACTIONS.length]!,
      object: '小米SU7 Ultra',
      channel: 'app',
      detail: '关注续航和价格',
    }));
    await s.ctx.users.upsertAll([{ id: 'user_long', name: null, profile: {} }], behaviours);
  });
  afterAll(() => s.dispose());

  it('a paused reader is capped at the high-water mark, does not hold back a fast one, and misses nothing', async () => {
    const fast = await TestWsClient.connect(s);
    const slow = await TestWsClient.connect(s);
    const slowPort = tcp(slow.ws).localPort;
    const server = serverSockets(s.ctx).find((ws) => tcp(ws).remotePort === slowPort);
    if (!server) throw new Error('server side of the slow socket not found');

    const upstreamDone = new Promise<ClosedEvent>((ok) => s.builtin!.events.once('closed', ok));
    const runId = await fast.start('user_long');
    slow.send({ type: 'subscribe', runId, after: 0 });
    slow.ws.pause();

    // Sample the server-side buffer on every turn of the event loop while the reader is paused.
    let peak = 0;
    let sampling = true;
    const sample = () => {
      peak = Math.max(peak, server.bufferedAmount);
      if (sampling) setImmediate(sample);
    };
    sample();

    const fastFrames = await fast.settled(runId, 20_000);
    const fastDoneAt = performance.now();
    const upstream = await deadline(upstreamDone, 1000, 'upstream end');
    sampling = false;
    expect(upstream.completed).toBe(true);
    expect(fastFrames.at(-1)!.type).toBe('done');
    expect(seqs(fastFrames)).toEqual(oneTo(fastFrames.length));
    // The fast reader had everything soon after the model finished, while the slow one was still paused.
    expect(fastDoneAt - upstream.at).toBeLessThan(1000);
    expect(slow.frames(runId).length).toBeLessThan(fastFrames.length / 2);

    const maxFrame = Math.max(...fast.rawFrames(runId).map((r) => Buffer.byteLength(r)));
    // Congestion really happened (the test would prove nothing otherwise), and stayed bounded.
    expect(peak).toBeGreaterThan(HIGH_WATER);
    expect(peak).toBeLessThanOrEqual(HIGH_WATER + maxFrame + 14);

    // The slow socket's subscription is parked part-way: a cursor into the log, not a queue of frames.
    const cursors = [...(await s.ctx.manager.open(runId))!.watchers]
      .map((w) => w.cursor)
      .sort((a, b) => a - b);
    expect(cursors).toHaveLength(2);
    expect(cursors[1]).toBe(fastFrames.length);
    expect(
      cursors[0],
      'every frame went to the paused socket (or the kernel absorbed the whole run)',
    ).toBeLessThan(fastFrames.length);

    slow.ws.resume();
    const slowFrames = await slow.settled(runId, 20_000);
    expect(seqs(slowFrames)).toEqual(oneTo(fastFrames.length));
    expect(slow.rawFrames(runId)).toEqual(fast.rawFrames(runId));
    expect(slow.rawFrames(runId)).toEqual(await storedFrames(s, runId));
    await Promise.all([fast.close(), slow.close()]);
  });
});
