import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunFrame } from '../frames.js';
import type { RequestErrorMessage } from '../ws-protocol.js';
import { deadline, startTestServer, type TestServer } from '../../../server/src/test-support/test-server.js';
import { StreamClient } from './stream-client.js';
import { getRun, oneToN, recordFrames, recordingWebSocket, seqsOf, textOf, wsUrl } from './test-kit.js';
import { startCutProxy } from './test-transports.js';

const fastRetry = { baseMs: 5, maxMs: 40 };

describe('StreamClient reconnects without losing or repeating frames', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 200, BUILTIN_FIRST_PIECE_MS: 0 });
  });
  afterAll(() => s.dispose());

  /** Runs user_0007 on a client whose socket is cut by `cut`; returns what the consumer saw. */
  const runWithCut = async (cut: (frames: RunFrame[], sockets: { terminate(): void }[]) => void) => {
    const { Ctor, sockets } = recordingWebSocket();
    const c = new StreamClient({ url: wsUrl(s.url), WebSocket: Ctor, backoff: fastRetry });
    try {
      const rec = recordFrames(c);
      let lastOnFirstSocket = 0;
      c.onFrame((f) => {
        if (sockets.length === 1) lastOnFirstSocket = f.seq;
        cut(rec.all, sockets);
      });
      const runId = await deadline(c.start('user_0007'), 5000, 'start');
      const frames = await rec.settled(runId);
      return { runId, frames, sockets: sockets.length, lastOnFirstSocket };
    } finally {
      c.close();
    }
  };

  it('a socket killed at every stage of a run: the consumer sees seqs 1..n once and the whole text', async () => {
    const reference = await runWithCut(() => {});
    const n = reference.frames.length;
    const firstChunk = reference.frames.findIndex((f) => f.type === 'llm_chunk') + 1;
    expect(n).toBeGreaterThan(40);
    const ks = [
      ...new Set([1, firstChunk - 1, firstChunk, 5, n >> 2, n >> 1, (3 * n) >> 2, n - 2, n - 1]),
    ].filter((k) => k >= 1 && k < n);
    // Each cut on its own client, all at once: the runs are independent.
    const results = await Promise.all(
      ks.map(async (k) => {
        let cut = false;
        const r = await runWithCut((frames, sockets) => {
          if (!cut && frames.length === k) {
            cut = true;
            sockets.at(-1)!.terminate();
          }
        });
        return { k, cut, ...r, stored: await getRun(s.url, r.runId) };
      }),
    );
    for (const { k, cut, stored, ...r } of results) {
      expect(cut, `cut after ${k}`).toBe(true);
      // Frames already received when the socket dies are still delivered; the rest come after a reconnect.
      if (r.lastOnFirstSocket < stored.lastSeq)
        expect(r.sockets, `reconnected after ${k}`).toBeGreaterThanOrEqual(2);
      expect(seqsOf(r.frames), `seqs, cut after ${k}`).toEqual(oneToN(stored.lastSeq));
      expect(r.frames.at(-1)!.type).toBe('done');
      expect(textOf(r.frames), `text, cut after ${k}`).toBe(stored.text);
    }
    expect(results.filter((r) => r.sockets >= 2).length).toBeGreaterThanOrEqual(ks.length - 2);
  });

  /** A client whose connection goes through a proxy that can cut it; `stop` closes both. */
  const throughCutProxy = async () => {
    const proxy = await startCutProxy(s.port);
    const { Ctor, sockets } = recordingWebSocket();
    const c = new StreamClient({ url: wsUrl(proxy.url), WebSocket: Ctor, backoff: fastRetry });
    const stop = async () => {
      c.close();
      await proxy.close();
    };
    return { proxy, sockets, c, rec: recordFrames(c), stop };
  };

  it('a connection lost just before the done frame: done comes after the reconnect', async () => {
    const { proxy, sockets, c, rec, stop } = await throughCutProxy();
    try {
      const cut = proxy.cutBefore('"type":"done"');
      const runId = await c.start('user_0007');
      await deadline(cut, 10_000, 'the cut');
      const frames = await rec.settled(runId);
      const stored = await getRun(s.url, runId);
      expect(sockets.length).toBe(2);
      expect(seqsOf(frames)).toEqual(oneToN(stored.lastSeq));
      expect(textOf(frames)).toBe(stored.text);
    } finally {
      await stop();
    }
  });

  it('a keyed start whose ack is lost with the connection is sent again and names the one run', async () => {
    const { proxy, sockets, c, rec, stop } = await throughCutProxy();
    try {
      const cut = proxy.cutBefore('"op":"start"');
      const started = c.start('user_0009', 'reconnect-key-0001');
      await deadline(cut, 5000, 'the cut before the ack');
      const runId = await deadline(started, 5000, 'the start answered on the new socket');
      const frames = await rec.settled(runId);
      const stored = await getRun(s.url, runId);
      expect(sockets.length).toBe(2);
      expect(seqsOf(frames)).toEqual(oneToN(stored.lastSeq));
      const runs = (await (await fetch(`${s.url}/api/v1/runs?userId=user_0009`)).json()) as {
        items: { id: string }[];
      };
      expect(runs.items.map((r) => r.id)).toEqual([runId]);
    } finally {
      await stop();
    }
  });

  it('a socket killed right after the start ack, before any frame', async () => {
    const { Ctor, sockets } = recordingWebSocket((ws) =>
      ws.on('message', (data) => {
        if (sockets.length === 1 && String(data).includes('"op":"start"')) ws.terminate();
      }),
    );
    const c = new StreamClient({ url: wsUrl(s.url), WebSocket: Ctor, backoff: fastRetry });
    try {
      const rec = recordFrames(c);
      const runId = await c.start('user_0005');
      const frames = await rec.settled(runId);
      const stored = await getRun(s.url, runId);
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      expect(seqsOf(frames)).toEqual(oneToN(stored.lastSeq));
      expect(textOf(frames)).toBe(stored.text);
    } finally {
      c.close();
    }
  });

  it('a dead connection (no pong) is noticed by the app-level ping and replaced', async () => {
    s.builtin!.setPace({ piecesPerSecond: 60, firstPieceDelayMs: 0 });
    const { Ctor, sockets } = recordingWebSocket();
    const c = new StreamClient({
      url: wsUrl(s.url),
      WebSocket: Ctor,
      backoff: fastRetry,
      pingIntervalMs: 40,
      pongTimeoutMs: 150,
    });
    try {
      const reasons: string[] = [];
      c.onState((e) => reasons.push(e.reason ?? ''));
      const rec = recordFrames(c);
      const runId = await c.start('user_0002');
      await rec.waitFor((f) => f.type === 'llm_chunk' && f.seq > 5, 5000, 'some chunks');
      // Stop reading the socket: the connection is open but nothing arrives, like a half-open TCP link.
      (sockets[0] as unknown as { _socket: { pause(): void } })._socket.pause();
      const frames = await rec.settled(runId);
      expect(reasons).toContain('no pong from the server');
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      const stored = await getRun(s.url, runId);
      expect(seqsOf(frames)).toEqual(oneToN(stored.lastSeq));
      expect(textOf(frames)).toBe(stored.text);
    } finally {
      c.close();
      s.builtin!.setPace({ piecesPerSecond: 200, firstPieceDelayMs: 0 });
    }
  });
});

/** Cuts a stored run log to its first `n` frames, as a crash before the last flush would. */
function keepFrames(db: Database.Database, runId: string, n: number): void {
  const row = db.prepare('SELECT frames FROM run_logs WHERE run_id = ?').get(runId) as { frames: string };
  const kept = row.frames.split('\n').slice(0, n).join('\n');
  db.prepare('UPDATE run_logs SET frames = ? WHERE run_id = ?').run(kept, runId);
}

describe('a server that lost frames the client saw (crash before flush)', () => {
  it('answers the re-subscribe with invalid_cursor; the client resets the run and replays from 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-client-'));
    const dbPath = join(dir, 'test.db');
    let server = await startTestServer({}, dbPath);
    const c = new StreamClient({
      url: wsUrl(server.url),
      WebSocket: recordingWebSocket().Ctor,
      backoff: fastRetry,
    });
    try {
      const rec = recordFrames(c);
      const errors: RequestErrorMessage[] = [];
      const resets: string[] = [];
      c.onRequestError((e) => errors.push(e));
      c.onReset((id) => resets.push(id));
      const runId = await c.start('user_0006');
      const n = (await rec.settled(runId)).length;
      const port = server.port;
      await server.close();
      const db = new Database(dbPath);
      keepFrames(db, runId, n - 3);
      db.close();
      server = await startTestServer({ PORT: port, RESUME_INTERRUPTED: 'off' }, dbPath);
      await deadline(new Promise<void>((ok) => c.onReset(() => ok())), 5000, 'the reset');
      await rec.waitFor((f) => f.seq === n - 3 && rec.all.indexOf(f) >= n, 5000, 'the replay');
      expect(errors.map((e) => e.code)).toEqual(['invalid_cursor']);
      expect(resets).toEqual([runId]);
      expect(seqsOf(rec.of(runId).slice(n))).toEqual(oneToN(n - 3));
      expect(c.lastSeq(runId)).toBe(n - 3);
    } finally {
      c.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends the log exactly at the client cursor with a frame the client never got: reset and replay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'es-client-'));
    const dbPath = join(dir, 'test.db');
    let server = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 40, BUILTIN_FIRST_PIECE_MS: 0 }, dbPath);
    const c = new StreamClient({
      url: wsUrl(server.url),
      WebSocket: recordingWebSocket().Ctor,
      backoff: fastRetry,
    });
    try {
      const rec = recordFrames(c);
      const resets: string[] = [];
      c.onReset((id) => resets.push(id));
      const runId = await c.start('user_0007');
      await rec.waitFor((f) => f.type === 'llm_chunk' && f.seq > 10, 5000, 'some pieces');
      const port = server.port;
      // Taken before the stop: a clean stop sends the client one more frame (its terminal one).
      const cursor = c.lastSeq(runId);
      await server.close();
      // As after a crash: the stored log ends one frame before what the client saw, and the run is running.
      const db = new Database(dbPath);
      keepFrames(db, runId, cursor - 1);
      db.prepare(`UPDATE runs SET status = 'running', last_seq = ? WHERE id = ?`).run(cursor - 1, runId);
      db.close();
      server = await startTestServer({ PORT: port, RESUME_INTERRUPTED: 'off' }, dbPath);
      await deadline(new Promise<void>((ok) => c.onReset(() => ok())), 5000, 'the reset');
      await rec.waitFor((f) => f.type === 'error' && f.code === 'interrupted', 5000, 'the interrupted frame');
      expect(resets).toEqual([runId]);
      const replay = rec.of(runId).slice(rec.of(runId).findIndex((f, i) => i > 0 && f.seq === 1));
      expect(seqsOf(replay)).toEqual(oneToN(cursor));
      expect(replay.at(-1)).toMatchObject({ type: 'error', code: 'interrupted' });
    } finally {
      c.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
