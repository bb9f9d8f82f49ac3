import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { createParser } from 'eventsource-parser';
import { WebSocket } from 'ws';
import type { ExtractedEvent, RunDetail, RunFrame } from '@app/shared';
import { StreamClient } from '@app/shared/client';
import { RunsRepo } from '../db/runs-repo.js';
import type { RunsStore } from '../store/types.js';
import { chunkContent, isChunk } from '../runs/frame-codec.js';
import { deadline } from '../test-support/test-server.js';
import { buildServerOnce, freePort, ServerOnPort } from './server-on-port.js';

export interface SoakOptions {
  /** Times the server is killed with SIGKILL (and started again). */
  kills: number;
  /** Runs kept generating at once while the kills go on. */
  concurrentRuns: number;
  /** Each kill comes a random 0..maxGapMs after the server is back: every stage of a run gets hit. */
  maxGapMs: number;
  /** Pace of the built-in model. */
  piecesPerSecond: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  kills: number;
  runs: number;
  /** Frames clients held, each compared with the stored frame of the same seq. */
  framesChecked: number;
  /** What each run's WebSocket watcher had last, at each kill: the stages the kills hit. */
  stagesHit: Record<string, number>;
  /** Every broken promise, in words; empty when the log kept every one. */
  violations: string[];
}

export const USERS = ['user_0001', 'user_0002', 'user_0003', 'user_0004', 'user_0005', 'user_0006'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const factsOf = (events: ExtractedEvent[]) =>
  events.map((e) =>
    [e.eventType, e.startTime, e.endTime, e.sourceBehaviorIds.join(','), e.summary].join('|'),
  );

/**
 * Follows a run over SSE like a client that reconnects by itself with Last-Event-ID until `done`; `base`
 * names the server to ask at each (re)connection (one, or any instance of a cluster).
 */
export class SseFollower {
  readonly raw: string[] = [];
  repeats = 0;
  done = false;
  private last = 0;
  private readonly ac = new AbortController();

  constructor(
    private readonly base: () => string,
    private readonly runId: string,
  ) {}

  async follow(): Promise<void> {
    while (!this.done && !this.ac.signal.aborted) {
      try {
        const res = await fetch(`${this.base()}/api/v1/runs/${this.runId}/stream`, {
          headers: { accept: 'text/event-stream', 'last-event-id': String(this.last) },
          signal: this.ac.signal,
        });
        if (res.status === 200 && res.body) {
          const parser = createParser({ onEvent: (m) => this.take(m.id, m.data) });
          const decoder = new TextDecoder();
          for await (const chunk of res.body)
            parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        } else {
          await res.body?.cancel();
        }
      } catch {
        // the server is down: try again, as EventSource does
      }
      if (!this.done) await sleep(40);
    }
  }

  stop(): void {
    this.ac.abort();
  }

  private take(id: string | undefined, data: string): void {
    const seq = Number(id);
    if (seq <= this.last) return void this.repeats++;
    this.last = seq;
    this.raw.push(data);
    if ((JSON.parse(data) as RunFrame).type === 'done') this.done = true;
  }
}

export interface Watched {
  runId: string;
  userId: string;
  ws: RunFrame[];
  sse: SseFollower;
  following: Promise<void>;
}

/**
 * Streams runs to WebSocket and SSE clients while the server is killed (SIGKILL) again and again and
 * started again; clients reconnect by themselves and interrupted runs continue by themselves. Then
 * checks every promise of the log: every frame a client holds is the stored frame of that seq, nothing
 * is missing or repeated, the text is the pieces, and the events are an uninterrupted run's.
 */
export async function runCrashSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'es-soak-'));
  const dbPath = join(dir, 'app.db');
  const server = new ServerOnPort(
    await freePort(),
    {
      DATABASE_PATH: dbPath,
      BUILTIN_PIECES_PER_SECOND: String(opts.piecesPerSecond),
      BUILTIN_FIRST_PIECE_MS: '0',
      RESUME_INTERRUPTED_MAX: '100000',
      MAX_RUNNING_RUNS_PER_CLIENT: '0',
    },
    buildServerOnce(),
  );
  const report: SoakReport = { kills: 0, runs: 0, framesChecked: 0, stagesHit: {}, violations: [] };
  const watched = new Map<string, Watched>();
  // By run from its first frame: frames may come before the start's ack has told us the id.
  const wsFrames = new Map<string, RunFrame[]>();
  const framesOf = (runId: string) => wsFrames.get(runId) ?? wsFrames.set(runId, []).get(runId)!;
  let client: StreamClient | null = null;
  try {
    await server.start();
    const reference = await referenceEvents(server.url);
    client = new StreamClient({
      url: `${server.url.replace(/^http/, 'ws')}/api/v1/ws`,
      WebSocket: WebSocket as unknown as ConstructorParameters<typeof StreamClient>[0]['WebSocket'],
      backoff: { baseMs: 20, maxMs: 200 },
    });
    client.onFrame((f) => framesOf(f.runId).push(f));
    client.onReset((runId) =>
      report.violations.push(`${runId}: the client had to reset (frames it held were lost)`),
    );

    await killWhileStreaming(opts, report, watched, {
      start: (n) => startAndWatch(client!, () => server.url, USERS[n % USERS.length]!, watched, framesOf),
      kill: async () => {
        await server.kill();
        await server.start();
        return 'the server';
      },
    });
    await server.stop();
    report.runs = watched.size;
    const db = new Database(dbPath, { readonly: true });
    try {
      await check(new RunsRepo(db), watched, reference, report);
    } finally {
      db.close();
    }
    return report;
  } finally {
    client?.close();
    for (const w of watched.values()) w.sse.stop();
    await server.kill();
    if (report.violations.length === 0) rmSync(dir, { recursive: true, force: true });
    else log(`database kept for inspection: ${dbPath}`);
  }
}

/**
 * Keeps `concurrentRuns` runs streaming (the n-th begun by `start(n)`) while `kill` runs `kills` times, a
 * random 0..maxGapMs apart, noting what each unfinished run's WebSocket client had last at each kill; then
 * waits (bounded) until every run has ended on both its clients. `explain` adds to a timeout's message.
 */
export async function killWhileStreaming(
  opts: SoakOptions,
  report: SoakReport,
  watched: Map<string, Watched>,
  how: {
    start: (n: number) => Promise<void>;
    /** Kills and starts again what it chose; says what, for the log. */
    kill: () => Promise<string>;
    explain?: () => Promise<string>;
  },
): Promise<void> {
  let killing = true;
  const driver = (async () => {
    let n = 0;
    const active = new Set<Promise<void>>();
    while (killing) {
      if (active.size < opts.concurrentRuns) {
        const p = how.start(n++).finally(() => active.delete(p));
        active.add(p);
      }
      await sleep(50);
    }
    await Promise.all(active);
  })();
  try {
    for (let k = 0; k < opts.kills; k++) {
      await sleep(Math.random() * opts.maxGapMs);
      for (const w of watched.values()) {
        if (w.ws.at(-1)?.type === 'done') continue;
        const stage = stageOf(w.ws);
        report.stagesHit[stage] = (report.stagesHit[stage] ?? 0) + 1;
      }
      const what = await how.kill();
      report.kills++;
      opts.log?.(`kill ${report.kills}/${opts.kills} (${what}): ${watched.size} runs so far`);
    }
  } finally {
    killing = false;
  }
  try {
    await deadline(driver, 120_000, 'every run to be started');
    await deadline(
      Promise.all([...watched.values()].map((w) => w.following)),
      120_000,
      'every run to finish on both clients',
    );
  } catch (err) {
    if (!how.explain) throw err;
    throw new Error(`${String(err)}\n${await how.explain()}`, { cause: err });
  }
}

/** Starts a run (keyed, so a start lost with the server is re-sent, never run twice) and follows it. */
export async function startAndWatch(
  client: StreamClient,
  sseBase: () => string,
  userId: string,
  watched: Map<string, Watched>,
  framesOf: (runId: string) => RunFrame[],
): Promise<void> {
  const key = randomUUID();
  let runId: string | undefined;
  while (!runId) {
    try {
      runId = await client.start(userId, key);
    } catch {
      await sleep(50);
    }
  }
  const ws = framesOf(runId);
  const w: Watched = {
    runId,
    userId,
    ws,
    sse: new SseFollower(sseBase, runId),
    following: Promise.resolve(),
  };
  watched.set(runId, w);
  const wsDone = new Promise<void>((ok) => {
    const t = setInterval(() => {
      if (ws.at(-1)?.type === 'done') {
        clearInterval(t);
        ok();
      }
    }, 20);
  });
  w.following = Promise.all([wsDone, w.sse.follow()]).then(() => {});
  await w.following;
}

export function stageOf(frames: RunFrame[]): string {
  const last = frames.at(-1);
  if (!last) return 'not started';
  if (last.type === 'progress') return `progress:${last.stage}`;
  if (last.type === 'error') return `error:${last.code}`;
  return last.type;
}

/** The events of an uninterrupted run of each user (the built-in model is deterministic). */
export async function referenceEvents(baseUrl: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    USERS.map(async (userId) => {
      const res = await fetch(`${baseUrl}/api/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId }),
      });
      const { runId } = (await res.json()) as { runId: string };
      const detail = await deadline(
        (async () => {
          for (;;) {
            const d = (await (await fetch(`${baseUrl}/api/v1/runs/${runId}`)).json()) as RunDetail;
            if (d.status !== 'running') return d;
            await sleep(50);
          }
        })(),
        30_000,
        `the reference run of ${userId}`,
      );
      if (detail.status !== 'done') throw new Error(`reference run of ${userId} ended ${detail.status}`);
      out.set(userId, factsOf(detail.events));
    }),
  );
  return out;
}

/** Compares what every client holds with the stored log, and each run's outcome with the reference. */
export async function check(
  repo: RunsStore,
  watched: Map<string, Watched>,
  reference: Map<string, string[]>,
  report: SoakReport,
): Promise<void> {
  const bad = (runId: string, what: string) => report.violations.push(`${runId}: ${what}`);
  for (const w of watched.values()) {
    const stored = await repo.framesAfter(w.runId, 0);
    const detail = await repo.detail(w.runId);
    if (!detail) {
      bad(w.runId, 'the run is not stored');
      continue;
    }
    stored.forEach((json, i) => {
      if ((JSON.parse(json) as RunFrame).seq !== i + 1) bad(w.runId, `stored frame ${i + 1} has another seq`);
    });
    if (detail.status !== 'done') bad(w.runId, `ended ${detail.status}, not done`);
    if (stored.length !== detail.lastSeq)
      bad(w.runId, `log has ${stored.length} frames, row says ${detail.lastSeq}`);
    w.ws.forEach((f, i) => {
      if (f.seq !== i + 1) bad(w.runId, `WebSocket client got seq ${f.seq} as its frame ${i + 1}`);
      else if (!isDeepStrictEqual(f, JSON.parse(stored[i] ?? 'null')))
        bad(w.runId, `WebSocket client's seq ${f.seq} differs from the stored frame`);
    });
    w.sse.raw.forEach((json, i) => {
      if (json !== stored[i]) bad(w.runId, `SSE client's frame ${i + 1} differs from the stored frame`);
    });
    if (w.ws.length !== stored.length)
      bad(w.runId, `WebSocket client has ${w.ws.length} of ${stored.length}`);
    if (w.sse.raw.length !== stored.length)
      bad(w.runId, `SSE client has ${w.sse.raw.length} of ${stored.length}`);
    if (w.sse.repeats > 0) bad(w.runId, `SSE client was sent ${w.sse.repeats} frames it had`);
    report.framesChecked += w.ws.length + w.sse.raw.length;
    const pieces = stored.filter(isChunk).map(chunkContent).join('');
    if (pieces !== detail.text) bad(w.runId, 'the text is not the concatenated pieces');
    const want = reference.get(w.userId)!;
    const got = factsOf(detail.events);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      // Where they went astray: the log's event frames (net of merges) and its last frame's count.
      const frames = stored.map((j) => JSON.parse(j) as RunFrame);
      const lines = new Set<number>();
      for (const f of frames) {
        if (f.type !== 'event') continue;
        for (const n of f.replaces ?? []) lines.delete(n);
        lines.add(f.event.lineNo);
      }
      const last = frames.at(-1);
      const resumed = frames.filter((f) => f.type === 'progress' && f.stage === 'resumed').map((f) => f.seq);
      bad(
        w.runId,
        `events differ from an uninterrupted run's (${got.length} vs ${want.length}; ` +
          `the log's event frames leave ${lines.size}, its last frame says ${last && 'events' in last ? last.events : '?'}, ` +
          `row says ${detail.eventCount}; resumed at seq ${resumed.join(',') || '-'} of ${frames.length})`,
      );
    }
  }
}
