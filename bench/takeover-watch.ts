/**
 * The load client's side of the cluster takeover phase: WebSocket watchers of runs whose owner is killed
 * mid-run. Pieces start again at 0 when the run is continued elsewhere (the bench model ignores the
 * prompt), so these watchers check the log, not piece order: seq 1..N once each, no terminal frame
 * before `done`, a `progress {stage:"resumed"}` on the way, and the text equal to the stored text.
 */
import WebSocket from 'ws';
import { clockMs } from './procs.js';

interface Frame {
  type: string;
  seq?: number;
  runId?: string;
  op?: string;
  stage?: string;
  content?: string;
  code?: string;
  message?: string;
}

/** One socket watching one run on one server. */
class RunWatcher {
  readonly ws: WebSocket;
  lastSeq = 0;
  chunks = 0;
  /** Pieces it had when the owner was killed. */
  chunksAtKill = 0;
  text = '';
  resumedAt = NaN;
  doneAt = NaN;
  readonly failures: string[] = [];
  private settle!: () => void;
  readonly done = new Promise<void>((ok) => (this.settle = ok));
  readonly subscribed: Promise<void>;

  constructor(
    readonly runId: string,
    readonly server: string,
  ) {
    const label = `watcher of ${runId} on ${server}`;
    this.ws = new WebSocket(`${server.replace(/^http/, 'ws')}/api/v1/ws`, { perMessageDeflate: false });
    this.subscribed = new Promise((ok, fail) => {
      this.ws.once('error', fail);
      this.ws.on('message', (data: Buffer) => {
        const at = clockMs();
        const m = JSON.parse(data.toString('utf8')) as Frame;
        if (m.type === 'hello') this.ws.send(JSON.stringify({ type: 'subscribe', runId, after: 0 }));
        else if (m.type === 'ack') ok();
        else if (m.type === 'request_error') fail(new Error(`${label}: ${m.code} ${m.message}`));
        else if (m.runId === runId) this.frame(m, at, label);
      });
    });
    this.ws.on('close', () => this.fail(`${label}: socket closed before done`));
  }

  private frame(f: Frame, at: number, label: string): void {
    if (!Number.isNaN(this.doneAt)) return this.fail(`${label}: frame ${f.seq} after done`);
    if (f.seq !== this.lastSeq + 1) this.failures.push(`${label}: seq ${f.seq} after ${this.lastSeq}`);
    this.lastSeq = f.seq ?? this.lastSeq;
    if (f.type === 'llm_chunk') {
      this.chunks++;
      this.text += f.content ?? '';
    } else if (f.type === 'progress' && f.stage === 'resumed' && Number.isNaN(this.resumedAt)) {
      this.resumedAt = at;
    } else if (f.type === 'done') {
      this.doneAt = at;
      this.settle();
    } else if (f.type === 'error' || f.type === 'cancelled') {
      // Taken over means no terminal frame in between: watchers see the run go on.
      this.fail(`${label}: ${f.type} frame at seq ${f.seq} (${f.code ?? ''} ${f.message ?? ''})`);
    }
  }

  fail(why: string): void {
    if (!Number.isNaN(this.doneAt)) return;
    this.failures.push(why);
    this.settle();
  }
}

export interface TakeoverRun {
  runId: string;
  /** Shared-clock ms when the last of its watchers got `progress {stage:"resumed"}` / `done` (NaN: never). */
  resumedAt: number;
  doneAt: number;
  frames: number;
  chunksBeforeKill: number;
}

let watchers: RunWatcher[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every run watched from every server in `servers`, each watcher on a socket of its own. */
async function watch(runIds: string[], servers: string[]): Promise<{ watchers: number }> {
  watchers = runIds.flatMap((id) => servers.map((s) => new RunWatcher(id, s)));
  await Promise.all(watchers.map((w) => w.subscribed));
  return { watchers: watchers.length };
}

/** Resolves once every watcher has `min` pieces: the runs are well under way. */
async function until(min: number, timeoutMs: number): Promise<{ minChunks: number }> {
  const end = clockMs() + timeoutMs;
  while (watchers.some((w) => w.chunks < min)) {
    if (clockMs() > end) throw new Error(`not every watcher had ${min} pieces after ${timeoutMs} ms`);
    await sleep(5);
  }
  for (const w of watchers) w.chunksAtKill = w.chunks;
  return { minChunks: Math.min(...watchers.map((w) => w.chunks)) };
}

/** Waits for every run's `done`, then checks each watcher's log against the stored run. */
async function finish(
  serverURL: string,
  timeoutMs: number,
): Promise<{ runs: TakeoverRun[]; failures: string[] }> {
  const timer = setTimeout(() => {
    for (const w of watchers) w.fail(`watcher of ${w.runId} on ${w.server}: not done after ${timeoutMs} ms`);
  }, timeoutMs);
  await Promise.all(watchers.map((w) => w.done));
  clearTimeout(timer);
  const failures = watchers.flatMap((w) => w.failures);
  const byRun = new Map<string, RunWatcher[]>();
  for (const w of watchers) byRun.set(w.runId, [...(byRun.get(w.runId) ?? []), w]);
  const runs: TakeoverRun[] = [];
  for (const [runId, list] of byRun) {
    const res = await fetch(`${serverURL}/api/v1/runs/${runId}`);
    const stored = (await res.json()) as { text: string; status: string; lastSeq: number };
    if (stored.status !== 'done') failures.push(`run ${runId} is ${stored.status}, not done`);
    for (const w of list) {
      if (Number.isNaN(w.resumedAt)) failures.push(`${runId} on ${w.server}: no progress "resumed" frame`);
      if (w.lastSeq !== stored.lastSeq)
        failures.push(`${runId} on ${w.server}: ${w.lastSeq} frames, ${stored.lastSeq} stored`);
      if (w.text !== stored.text)
        failures.push(
          `${runId} on ${w.server}: received text (${w.text.length} chars) ≠ stored text (${stored.text.length} chars)`,
        );
    }
    runs.push({
      runId,
      resumedAt: Math.max(...list.map((w) => w.resumedAt)),
      doneAt: Math.max(...list.map((w) => w.doneAt)),
      frames: stored.lastSeq,
      chunksBeforeKill: Math.min(...list.map((w) => w.chunksAtKill)),
    });
  }
  for (const w of watchers) {
    w.ws.removeAllListeners('close');
    w.ws.close();
  }
  watchers = [];
  return { runs, failures };
}

/** `takeoverWatch`, `takeoverUntil`, `takeoverFinish` over the load client's IPC. */
export async function takeoverCommand(m: Record<string, unknown>): Promise<object> {
  switch (m.cmd) {
    case 'takeoverWatch':
      return await watch(m.runIds as string[], m.servers as string[]);
    case 'takeoverUntil':
      return await until(Number(m.min), Number(m.timeoutMs));
    case 'takeoverFinish':
      return await finish(String(m.serverURL), Number(m.timeoutMs));
    default:
      throw new Error(`unknown command ${String(m.cmd)}`);
  }
}
