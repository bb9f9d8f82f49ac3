// The long-history run: one user with 5,000 behaviours through the real server (built-in model at full
// speed, default prompt budget, so the run is split into chunks), then the replay of its whole log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { buildServerOnce, freePort, ServerOnPort } from '../server/src/soak/server-on-port.js';
import { clockMs, cpuSeconds, memoryMb, resetPeak } from './procs.js';

export interface LongHistoryResult {
  user: string;
  behaviours: number;
  chunks: number;
  frames: number;
  events: number;
  firstPieceMs: number;
  totalMs: number;
  /** Server CPU seconds over the run. */
  cpuS: number;
  /** Server RSS before the run and its peak while streaming, MB. */
  rssBeforeMb: number;
  rssPeakMb: number;
  replayWsMs: number;
  replaySseMs: number;
}

const USER = 'user_0063';

/** Streams the 5,000-behaviour demo user once over WebSocket and replays its log over WS and SSE. */
export async function benchLongHistory(log: (l: string) => void): Promise<LongHistoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'es-bench-long-'));
  const server = new ServerOnPort(
    await freePort(),
    {
      DATABASE_PATH: join(dir, 'app.db'),
      BUILTIN_PIECES_PER_SECOND: '0',
      BUILTIN_FIRST_PIECE_MS: '0',
      MAX_RUNNING_RUNS_PER_CLIENT: '0',
    },
    buildServerOnce(),
  );
  try {
    await server.start();
    const pid = server.pid!;
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/api/v1/ws`;
    resetPeak(pid);
    const rssBeforeMb = memoryMb(pid).rss;
    const cpu0 = cpuSeconds(pid);
    const t0 = clockMs();
    let firstPieceMs = NaN;
    let runId = '';
    let frames = 0;
    let chunks = 0;
    let events = 0;
    await withSocket(wsUrl, (ws, done) => {
      ws.send(JSON.stringify({ type: 'start', userId: USER, requestId: 'long' }));
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString('utf8')) as {
          type: string;
          seq?: number;
          runId?: string;
          chunks?: number;
          events?: number;
        };
        if (m.seq === undefined) return;
        frames = m.seq;
        runId = m.runId!;
        if (m.type === 'llm_chunk' && Number.isNaN(firstPieceMs)) firstPieceMs = clockMs() - t0;
        if (m.type === 'done') {
          chunks = m.chunks ?? 1;
          events = m.events ?? 0;
          done();
        } else if (m.type === 'cancelled' || m.type === 'error') done(new Error(`run ended ${m.type}`));
      });
    });
    const totalMs = clockMs() - t0;
    const cpuS = cpuSeconds(pid) - cpu0;
    const rssPeakMb = memoryMb(pid).peak;
    log(
      `  ${USER}: ${chunks} chunks, ${frames} frames, ${events} events in ${(totalMs / 1000).toFixed(1)} s`,
    );

    const r0 = clockMs();
    await withSocket(wsUrl, (ws, done) => {
      ws.send(JSON.stringify({ type: 'subscribe', runId, after: 0, requestId: 'replay' }));
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString('utf8')) as { type: string; seq?: number };
        if (m.seq === frames) done();
      });
    });
    const replayWsMs = clockMs() - r0;
    const s0 = clockMs();
    const res = await fetch(`${server.url}/api/v1/runs/${runId}/stream?after=0`);
    await res.text(); // the stream ends after the terminal frame of a settled run
    const replaySseMs = clockMs() - s0;
    return {
      user: USER,
      behaviours: 5000,
      chunks,
      frames,
      events,
      firstPieceMs,
      totalMs,
      cpuS,
      rssBeforeMb,
      rssPeakMb,
      replayWsMs,
      replaySseMs,
    };
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens a socket, lets `use` drive it until it calls `done`, then closes it (120 s at most). */
function withSocket(url: string, use: (ws: WebSocket, done: (err?: Error) => void) => void): Promise<void> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => finish(new Error('long-history phase timed out')), 120_000);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      ws.close();
      if (err) fail(err);
      else ok();
    };
    ws.once('error', finish);
    ws.once('open', () => use(ws, finish));
  });
}

/** The report's section. */
export function renderLongHistory(r: LongHistoryResult): string {
  return [
    `## Long history (${r.user}, ${r.behaviours} behaviours, built-in model at full speed)`,
    '',
    '| chunks | frames | events | first piece | total | server CPU | server RSS before → peak | replay WS | replay SSE |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${r.chunks} | ${r.frames} | ${r.events} | ${r.firstPieceMs.toFixed(0)} ms | ${(r.totalMs / 1000).toFixed(2)} s | ` +
      `${r.cpuS.toFixed(2)} s | ${r.rssBeforeMb.toFixed(0)} → ${r.rssPeakMb.toFixed(0)} MB | ` +
      `${r.replayWsMs.toFixed(0)} ms | ${r.replaySseMs.toFixed(0)} ms |`,
  ].join('\n');
}
