/**
 * The load client, in its own process: opens N concurrent runs (or watchers) against one target and
 * records, for every piece, receive time − send time on the shared clock, and each watcher's text.
 * Driven by the orchestrator over IPC: prepare → runs → verify, plus idle sockets and replays.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { readPiece } from './piece.js';
import { clockMs, serveIpc } from './procs.js';
import { takeoverCommand } from './takeover-watch.js';

export type Mode = 'direct' | 'bare' | 'ws' | 'sse';

export interface Targets {
  modelURL: string;
  bareURL: string;
  serverURL: string;
}

export interface RunsResult {
  /** ms per piece per watcher. */
  latencies: number[];
  /** ms from the request to the first piece, per watcher. */
  ttfp: number[];
  received: number;
  /** Pieces sent before their watcher attached (fan-out): delivered, but not in `latencies`. */
  catchUp: number;
  expected: number;
  /** Shared-clock ms: first request sent, last piece received. */
  firstSend: number;
  lastRecv: number;
  /** Pieces sent / received within the steady-state window. */
  windowSent: number;
  windowReceived: number;
  /** REST-started phases: latencies by the instance (URL) each watcher's socket is on. */
  latenciesByURL?: Record<string, number[]>;
  failures: string[];
}

// Idle sockets are dropped after 2 s, well before the servers' 5 s keep-alive timeout: reusing one the
// server is closing at that moment resets the request (seen between phases with 20-piece runs).
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 2_000 });
const userOf = (k: number) => `user_${String((k % 60) + 1).padStart(4, '0')}`;

interface Frame {
  type: string;
  seq?: number;
  runId?: string;
  content?: string;
  code?: string;
  message?: string;
}

/** One reader of one run's pieces. */
class Watcher {
  text = '';
  private next = 0;
  /** Seq of the last frame it got (server modes). */
  lastSeq = 0;
  private gotFirst = false;
  finished = false;
  runId = '';
  /** When set, the first piece is timed from here (the run's start) rather than from `requestedAt`. */
  ttfpFrom: number | null = null;
  /** The instance this watcher reads from (REST-started phases), for latencies by instance. */
  url: string | null = null;
  private resolve!: () => void;
  readonly done = new Promise<void>((r) => (this.resolve = r));

  constructor(
    private readonly phase: Phase,
    readonly label: string,
    /** When this watcher asked: start of the run, or its subscribe to a run in progress. */
    public requestedAt: number,
  ) {}

  piece(content: string, at: number): void {
    const p = readPiece(content);
    if (!p) return this.fail(`unexpected piece text ${JSON.stringify(content).slice(0, 60)}`);
    if (p.index !== this.next)
      this.phase.failure(`${this.label}: piece ${p.index} arrived where ${this.next} was due`);
    this.next = p.index + 1;
    if (!this.gotFirst) {
      this.gotFirst = true;
      this.phase.ttfp.push(at - (this.ttfpFrom ?? this.requestedAt));
    }
    // A watcher that attaches to a run in progress gets the earlier pieces as catch-up: their age
    // says when the watcher came, not what the relay adds, so only live pieces count as latency.
    if (p.sentAt >= this.requestedAt) {
      this.phase.latencies.push(at - p.sentAt);
      if (this.url !== null) (this.phase.byURL[this.url] ??= []).push(at - p.sentAt);
    } else this.phase.catchUp++;
    this.phase.count(p.sentAt, at);
    this.text += content;
  }

  /** A frame of the server's run log, in order and without gaps. */
  frame(f: Frame, at: number): void {
    if (this.finished) return;
    if (f.seq !== this.lastSeq + 1) this.phase.failure(`${this.label}: seq ${f.seq} after ${this.lastSeq}`);
    this.lastSeq = f.seq ?? this.lastSeq;
    if (f.type === 'llm_chunk') this.piece(f.content ?? '', at);
    else if (f.type === 'done') this.end();
    else if (f.type === 'error' || f.type === 'cancelled')
      this.fail(`run ended ${f.type}: ${f.code ?? ''} ${f.message ?? ''}`);
  }

  end(): void {
    if (this.finished) return;
    if (this.next !== this.phase.pieces) {
      this.phase.failure(`${this.label}: ${this.next} of ${this.phase.pieces} pieces arrived`);
    }
    this.finish();
  }

  fail(why: string): void {
    if (this.finished) return;
    this.phase.failure(`${this.label}: ${why}`);
    this.finish();
  }

  private finish(): void {
    this.finished = true;
    this.resolve();
  }
}

class Phase {
  latencies: number[] = [];
  ttfp: number[] = [];
  received = 0;
  catchUp = 0;
  /** Pieces sent / received inside the steady-state window. */
  windowSent = 0;
  windowReceived = 0;
  firstSend = Infinity;
  lastRecv = 0;
  failures: string[] = [];
  watchers: Watcher[] = [];
  byURL: Record<string, number[]> = {};
  stopped = false;

  constructor(
    readonly pieces: number,
    readonly window: [number, number],
  ) {}

  add(label: string, requestedAt: number): Watcher {
    const w = new Watcher(this, label, requestedAt);
    this.watchers.push(w);
    this.firstSend = Math.min(this.firstSend, requestedAt);
    return w;
  }

  count(sentAt: number, at: number): void {
    this.received++;
    this.lastRecv = Math.max(this.lastRecv, at);
    const [from, to] = this.window;
    if (sentAt >= from && sentAt < to) this.windowSent++;
    if (at >= from && at < to) this.windowReceived++;
  }

  failure(why: string): void {
    this.failures.push(why);
  }
}

/** Line-oriented SSE reading: calls `onData(data, id, at)` per message; `at` is when its bytes came. */
function readSse(
  res: http.IncomingMessage,
  onData: (data: string, id: string | null, at: number) => void,
  onEnd: () => void,
): void {
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (s: string) => {
    const at = clockMs();
    buf += s;
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let id: string | null = null;
      let data: string | null = null;
      for (const line of block.split('\n')) {
        if (line.startsWith('data:')) data = line.slice(line[5] === ' ' ? 6 : 5);
        else if (line.startsWith('id:')) id = line.slice(line[3] === ' ' ? 4 : 3);
      }
      if (data !== null) onData(data, id, at);
    }
  });
  res.on('end', onEnd);
  res.on('error', onEnd);
}

/** POSTs and hands the SSE response to `onResponse`, or fails the watcher. */
function post(url: string, body: string, w: Watcher, onResponse: (res: http.IncomingMessage) => void): void {
  const req = http.request(
    url,
    { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'text/event-stream' } },
    (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return w.fail(`HTTP ${res.statusCode} from ${url}`);
      }
      onResponse(res);
    },
  );
  req.on('error', (err) => w.fail(err.message));
  req.end(body);
}

function get(url: string, w: Watcher, onResponse: (res: http.IncomingMessage) => void): void {
  http
    .get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return w.fail(`HTTP ${res.statusCode} from ${url}`);
      }
      onResponse(res);
    })
    .on('error', (err) => w.fail(err.message));
}

/** Server frames over SSE into a watcher; the response ending early is a failure. */
function serverSse(w: Watcher) {
  return (res: http.IncomingMessage) =>
    readSse(
      res,
      (data, _id, at) => {
        const f = JSON.parse(data) as Frame;
        if (!w.runId && f.runId) w.runId = f.runId;
        w.frame(f, at);
      },
      () => w.fail('stream ended before its done frame'),
    );
}

// ---- WebSocket sockets, opened before a phase so connection setup stays out of the timings ----

interface Sock {
  ws: WebSocket;
  /** The server (http URL) it is connected to, when opened for a cluster phase. */
  server: string | null;
  onMessage: ((m: Frame & { op?: string }, at: number) => void) | null;
}

let sockets: Sock[] = [];

function openSocket(url: string): Promise<Sock> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const s: Sock = { ws, server: null, onMessage: null };
    ws.once('error', fail);
    ws.on('message', (data: Buffer) => {
      const at = clockMs();
      const m = JSON.parse(data.toString('utf8')) as Frame;
      if (m.type === 'hello') {
        ws.off('error', fail);
        ws.on('error', () => {});
        return ok(s);
      }
      s.onMessage?.(m, at);
    });
  });
}

async function openSockets(url: string, n: number, batch = 200): Promise<Sock[]> {
  const out: Sock[] = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => openSocket(url)))));
  }
  return out;
}

/** Sockets to several servers: `servers[i]` for the i-th (cluster phases lay watchers over instances). */
async function openSocketsTo(servers: string[], batch = 200): Promise<Sock[]> {
  const out: Sock[] = [];
  for (let i = 0; i < servers.length; i += batch) {
    const opened = servers.slice(i, i + batch).map(async (server) => {
      const s = await openSocket(wsURL(server));
      s.server = server;
      return s;
    });
    out.push(...(await Promise.all(opened)));
  }
  return out;
}

function closeSockets(list: Sock[]): Promise<void> {
  return Promise.all(
    list.map(
      (s) =>
        new Promise<void>((ok) => {
          if (s.ws.readyState === WebSocket.CLOSED) return ok();
          s.ws.once('close', () => ok());
          s.ws.close();
          setTimeout(() => (s.ws.terminate(), ok()), 2_000).unref();
        }),
    ),
  ).then(() => undefined);
}

const wsURL = (serverURL: string) => `${serverURL.replace(/^http/, 'ws')}/api/v1/ws`;

// ---- the phase runner ----

let last: { phase: Phase; mode: Mode; serverURL: string } | null = null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PhaseSpec {
  mode: Mode;
  /** Concurrent users; each does `runsPerUser` runs back to back (a closed loop). */
  users: number;
  runsPerUser: number;
  /** Users' first runs start evenly over this many ms (0 = all at once: a start burst). */
  spreadMs: number;
  /** Readers per run: the one that starts it, and the rest attach as soon as its id is known. */
  watchers: number;
  pieces: number;
  targets: Targets;
  userOffset: number;
  timeoutMs: number;
  /** Steady-state window, ms after the phase starts, for delivered vs offered pieces/s. */
  window: [number, number];
  /**
   * Cluster phases (mode ws): each run is started with `POST /runs` on this server and all its watchers
   * only subscribe, each on the server its socket is connected to (`prepare` with `layout`).
   */
  startURL?: string;
}

/** POSTs a JSON body; resolves with the status and the parsed answer. */
function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((ok, fail) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (text += s));
        res.on('end', () => {
          try {
            ok({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> });
          } catch (err) {
            fail(err as Error);
          }
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(JSON.stringify(body));
  });
}

/**
 * A run started without a watcher (`POST /runs` on `o.startURL`), then watched by every socket of the
 * group over WS `subscribe` on whichever server the socket is connected to: in a cluster, a watcher on
 * another instance than the owner gets every frame through Redis.
 */
function restStart(phase: Phase, o: PhaseSpec, user: string, label: string, group: Sock[]): Promise<void> {
  const startedAt = clockMs();
  const subs = group.map((s, k) => {
    const v = phase.add(`${label} watcher ${k + 1}`, startedAt);
    v.ttfpFrom = startedAt;
    v.url = s.server;
    s.onMessage = (m, at) => {
      if (m.type === 'ack') return;
      if (m.type === 'request_error') return v.fail(`request error ${m.code}: ${m.message}`);
      if (m.runId === v.runId) v.frame(m, at);
    };
    return { s, v };
  });
  postJson(`${o.startURL}/api/v1/runs`, { userId: user }).then(
    ({ status, json }) => {
      if (status !== 201) {
        for (const { v } of subs) v.fail(`POST /runs: HTTP ${status} ${JSON.stringify(json).slice(0, 120)}`);
        return;
      }
      const runId = String(json.runId);
      for (const { s, v } of subs) {
        v.runId = runId;
        v.requestedAt = clockMs();
        s.ws.send(JSON.stringify({ type: 'subscribe', runId, after: 0 }));
      }
    },
    (err: Error) => {
      for (const { v } of subs) v.fail(`POST /runs: ${err.message}`);
    },
  );
  return Promise.all(subs.map((x) => x.v.done)).then(() => undefined);
}

/** Starts one run and attaches its watchers; resolves when every one of them has finished. */
function startRun(phase: Phase, o: PhaseSpec, user: string, label: string, group: Sock[]): Promise<void> {
  const { mode, targets, watchers } = o;
  if (mode === 'ws' && o.startURL) return restStart(phase, o, user, label, group);
  if (mode === 'direct') {
    const w = phase.add(label, clockMs());
    const body = JSON.stringify({
      model: 'bench',
      messages: [{ role: 'user', content: 'go' }],
      stream: true,
    });
    post(`${targets.modelURL}/chat/completions`, body, w, (res) =>
      readSse(
        res,
        (data, _id, at) => {
          if (data === '[DONE]') return w.end();
          const c = (JSON.parse(data) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta
            ?.content;
          if (c) w.piece(c, at);
        },
        () => w.fail('stream ended before [DONE]'),
      ),
    );
    return w.done;
  }
  if (mode === 'bare') {
    const w = phase.add(label, clockMs());
    post(`${targets.bareURL}/relay`, '{}', w, (res) =>
      readSse(
        res,
        (data, _id, at) => w.piece((JSON.parse(data) as { content: string }).content, at),
        () => w.end(),
      ),
    );
    return w.done;
  }
  if (mode === 'sse') {
    const w = phase.add(label, clockMs());
    const all = [w.done];
    let fanned = false;
    let release!: () => void;
    const fannedOut = new Promise<void>((r) => (release = r));
    post(`${targets.serverURL}/api/v1/events/extract/${user}/llm-stream`, '', w, (res) =>
      readSse(
        res,
        (data, _id, at) => {
          const f = JSON.parse(data) as Frame;
          if (!fanned && f.runId) {
            fanned = true;
            w.runId = f.runId;
            // Fan-out: the other watchers attach as soon as the run is known.
            for (let k = 1; k < watchers; k++) {
              const v = phase.add(`${label} watcher ${k + 1}`, clockMs());
              v.runId = f.runId;
              all.push(v.done);
              get(`${targets.serverURL}/api/v1/runs/${f.runId}/stream?after=0`, v, serverSse(v));
            }
            release();
          }
          w.frame(f, at);
        },
        () => w.fail('stream ended before its done frame'),
      ),
    );
    // If the start fails, there is nobody to fan out to.
    void w.done.then(release);
    return fannedOut.then(() => Promise.all(all)).then(() => undefined);
  }
  const [starter, ...others] = group as [Sock, ...Sock[]];
  const w = phase.add(label, clockMs());
  const subs = others.map((s, k) => ({ s, v: phase.add(`${label} watcher ${k + 2}`, w.requestedAt) }));
  for (const { s, v } of subs) {
    s.onMessage = (m, at) => {
      if (m.type === 'ack') return;
      if (m.type === 'request_error') return v.fail(`request error ${m.code}: ${m.message}`);
      v.frame(m, at);
    };
  }
  starter.onMessage = (m, at) => {
    if (m.type === 'ack' && m.op === 'start') {
      w.runId = m.runId!;
      for (const { s, v } of subs) {
        v.runId = m.runId!;
        v.requestedAt = clockMs();
        s.ws.send(JSON.stringify({ type: 'subscribe', runId: m.runId, after: 0 }));
      }
      return;
    }
    if (m.type === 'request_error') {
      for (const { v } of subs) v.fail('the run did not start');
      return w.fail(`request error ${m.code}: ${m.message}`);
    }
    w.frame(m, at);
  };
  starter.ws.send(JSON.stringify({ type: 'start', userId: user, requestId: label }));
  return Promise.all([w.done, ...subs.map((x) => x.v.done)]).then(() => undefined);
}

async function runPhase(o: PhaseSpec): Promise<RunsResult> {
  const t0 = clockMs();
  const phase = new Phase(o.pieces, [t0 + o.window[0], t0 + o.window[1]]);
  if (o.mode === 'ws' && sockets.length < o.users * o.watchers) {
    throw new Error(`prepare opened ${sockets.length} sockets, ${o.users * o.watchers} needed`);
  }
  const user = async (u: number) => {
    if (o.spreadMs > 0) await sleep((u * o.spreadMs) / o.users);
    const group = sockets.slice(u * o.watchers, (u + 1) * o.watchers);
    for (let k = 0; k < o.runsPerUser && !phase.stopped; k++) {
      await startRun(
        phase,
        o,
        userOf(o.userOffset + u),
        `${o.mode} user ${u + 1}/${o.users} run ${k + 1}`,
        group,
      );
    }
  };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(Array.from({ length: o.users }, (_, u) => user(u))),
    new Promise<void>((ok) => {
      timer = setTimeout(() => {
        phase.stopped = true;
        for (const w of phase.watchers)
          w.fail(`not finished after ${o.timeoutMs} ms${w.lastSeq > 0 ? ` (last seq ${w.lastSeq})` : ''}`);
        ok();
      }, o.timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  last = { phase, mode: o.mode, serverURL: o.targets.serverURL };
  return {
    latencies: phase.latencies,
    ttfp: phase.ttfp,
    received: phase.received,
    catchUp: phase.catchUp,
    expected: phase.watchers.length * o.pieces,
    firstSend: phase.firstSend,
    lastRecv: phase.lastRecv,
    windowSent: phase.windowSent,
    windowReceived: phase.windowReceived,
    ...(o.startURL ? { latenciesByURL: phase.byURL } : {}),
    failures: phase.failures,
  };
}

interface StoredRun {
  text: string;
  status: string;
  lastSeq: number;
}

async function storedRun(serverURL: string, runId: string): Promise<StoredRun> {
  const res = await fetch(`${serverURL}/api/v1/runs/${runId}`);
  if (!res.ok) throw new Error(`GET run ${runId}: HTTP ${res.status}`);
  return (await res.json()) as StoredRun;
}

/** Every watcher's text must equal its run's stored text, and the run must be done. */
async function verifyLast(): Promise<{ checked: number; failures: string[] }> {
  const failures: string[] = [];
  if (!last || (last.mode !== 'ws' && last.mode !== 'sse')) return { checked: 0, failures };
  const byRun = new Map<string, Watcher[]>();
  for (const w of last.phase.watchers) {
    if (!w.runId) {
      failures.push(`${w.label}: never learned its run id`);
      continue;
    }
    byRun.set(w.runId, [...(byRun.get(w.runId) ?? []), w]);
  }
  const ids = [...byRun.keys()];
  for (let i = 0; i < ids.length; i += 25) {
    await Promise.all(
      ids.slice(i, i + 25).map(async (id) => {
        const stored = await storedRun(last!.serverURL, id);
        if (stored.status !== 'done') failures.push(`run ${id} is ${stored.status}, not done`);
        for (const w of byRun.get(id)!) {
          if (w.text !== stored.text) {
            failures.push(
              `${w.label} (${id}): received text (${w.text.length} chars) ≠ stored text (${stored.text.length} chars)`,
            );
          }
        }
      }),
    );
  }
  return { checked: ids.length, failures };
}

// ---- idle sockets and replay ----

let idle: WebSocket[] = [];

async function openIdle(
  serverURL: string,
  count: number,
): Promise<{ opened: number; failed: number; firstError: string }> {
  let failed = 0;
  let firstError = '';
  const url = wsURL(serverURL);
  for (let i = 0; i < count; i += 250) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(250, count - i) }, () => openSocket(url)),
    );
    for (const b of batch) {
      if (b.status === 'fulfilled') idle.push(b.value.ws);
      else {
        failed++;
        firstError ||= String((b.reason as Error)?.message ?? b.reason);
      }
    }
  }
  return { opened: idle.length, failed, firstError };
}

/** Starts a run over WS and waits for its done frame; the model's pace decides its size. */
async function createRun(
  serverURL: string,
  timeoutMs: number,
): Promise<{ runId: string; lastSeq: number; ms: number }> {
  const [s] = await openSockets(wsURL(serverURL), 1);
  const t0 = clockMs();
  try {
    return await new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`run not done after ${timeoutMs} ms`)), timeoutMs);
      let runId = '';
      s!.onMessage = (m) => {
        if (m.type === 'ack') runId = m.runId!;
        else if (m.type === 'done') {
          clearTimeout(t);
          ok({ runId, lastSeq: m.seq!, ms: clockMs() - t0 });
        } else if (m.type === 'error' || m.type === 'cancelled') {
          clearTimeout(t);
          fail(new Error(`run ended ${m.type}`));
        }
      };
      s!.ws.send(JSON.stringify({ type: 'start', userId: 'user_0001' }));
    });
  } finally {
    await closeSockets([s!]);
  }
}

/** Re-attaches from seq 0 and times until the last frame; checks every frame came, text = stored. */
async function replay(
  serverURL: string,
  transport: 'ws' | 'sse',
  runId: string,
  lastSeq: number,
): Promise<{ ms: number; frames: number; failures: string[] }> {
  const stored = await storedRun(serverURL, runId);
  const failures: string[] = [];
  let frames = 0;
  let text = '';
  let expectSeq = 1;
  const take = (f: Frame) => {
    frames++;
    if (f.seq !== expectSeq) failures.push(`replay ${transport}: seq ${f.seq} where ${expectSeq} was due`);
    expectSeq = (f.seq ?? expectSeq) + 1;
    if (f.type === 'llm_chunk') text += f.content ?? '';
  };
  let ms: number;
  if (transport === 'ws') {
    const [s] = await openSockets(wsURL(serverURL), 1);
    const t0 = clockMs();
    ms = await new Promise<number>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('replay over WS did not finish in 30 s')), 30_000);
      s!.onMessage = (m, at) => {
        if (m.seq === undefined) return;
        take(m);
        if (m.seq === lastSeq) {
          clearTimeout(t);
          ok(at - t0);
        }
      };
      s!.ws.send(JSON.stringify({ type: 'subscribe', runId, after: 0 }));
    });
    await closeSockets([s!]);
  } else {
    const t0 = clockMs();
    ms = await new Promise<number>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('replay over SSE did not finish in 30 s')), 30_000);
      let lastAt = 0;
      http
        .get(`${serverURL}/api/v1/runs/${runId}/stream?after=0`, { agent }, (res) =>
          readSse(
            res,
            (data, _id, at) => {
              take(JSON.parse(data) as Frame);
              lastAt = at;
            },
            () => (clearTimeout(t), ok(lastAt - t0)),
          ),
        )
        .on('error', fail);
    });
  }
  if (frames !== lastSeq) failures.push(`replay ${transport}: ${frames} of ${lastSeq} frames`);
  if (text !== stored.text) failures.push(`replay ${transport}: received text ≠ stored text`);
  return { ms, frames, failures };
}

serveIpc(async (m) => {
  switch (m.cmd) {
    case 'prepare': {
      // Sockets for the next WS phase; closed again by verify. `layout` (cluster phases): the server of
      // each watcher of a run, repeated for `groups` runs.
      if (Array.isArray(m.layout)) {
        const layout = m.layout as string[];
        sockets = await openSocketsTo(Array.from({ length: Number(m.groups) }, () => layout).flat());
        return { sockets: sockets.length };
      }
      const n = Number(m.sockets);
      sockets = n > 0 ? await openSockets(wsURL(String(m.serverURL)), n) : [];
      return { sockets: sockets.length };
    }
    case 'runs':
      return await runPhase(m as unknown as PhaseSpec);
    case 'verify': {
      const v = await verifyLast();
      await closeSockets(sockets);
      sockets = [];
      last = null;
      return v;
    }
    case 'idle':
      return await openIdle(String(m.serverURL), Number(m.count));
    case 'closeIdle': {
      const n = idle.length;
      for (const ws of idle) ws.terminate();
      idle = [];
      return { closed: n };
    }
    case 'create':
      return await createRun(String(m.serverURL), Number(m.timeoutMs ?? 60_000));
    case 'replay':
      return await replay(
        String(m.serverURL),
        m.transport as 'ws' | 'sse',
        String(m.runId),
        Number(m.lastSeq),
      );
    default:
      if (String(m.cmd).startsWith('takeover')) return await takeoverCommand(m);
      throw new Error(`unknown command ${String(m.cmd)}`);
  }
});
process.send!({ ready: true, pid: process.pid });
