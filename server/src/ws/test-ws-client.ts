import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket, { type ClientOptions } from 'ws';
import {
  isRunFrame,
  isTerminalFrame,
  type AckMessage,
  type ClientMessage,
  type HelloMessage,
  type PongMessage,
  type RequestErrorMessage,
  type RunDetail,
  type RunFrame,
  type ServerMessage,
} from '@app/shared';
import type { Env } from '../config.js';
import { deadline, startTestServer, type TestServer } from '../test-support/test-server.js';

/** `ws://host:port/api/v1/ws` for a test server. */
export const wsUrl = (s: { url: string }, query = ''): string =>
  `${s.url.replace(/^http/, 'ws')}/api/v1/ws${query}`;

export interface Received {
  msg: ServerMessage;
  /** The text message exactly as it came off the wire. */
  raw: string;
  /** performance.now() when it arrived. */
  at: number;
}

export interface Closed {
  code: number;
  reason: string;
  at: number;
}

type Reply = AckMessage | RequestErrorMessage | PongMessage;

let counter = 0;
/** A request id unique within the test process. */
export const rid = (prefix = 'r'): string => `${prefix}-${++counter}`;

/**
 * A real `ws` client that records every message it gets, with waits that always have a deadline and
 * fail at once when the socket closes before the awaited thing arrived.
 */
export class TestWsClient {
  readonly received: Received[] = [];
  /** Frames per run, in arrival order (raw text alongside). */
  private readonly runs = new Map<string, { frames: RunFrame[]; raw: string[] }>();
  private readonly waiters = new Set<() => void>();
  private cursor = 0;
  private recording = true;
  closedWith: Closed | null = null;
  readonly closed: Promise<Closed>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!this.recording) return;
      if (isBinary) throw new Error('server sent a binary message');
      const raw = (data as Buffer).toString('utf8');
      const msg = JSON.parse(raw) as ServerMessage;
      this.received.push({ msg, raw, at: performance.now() });
      if (isRunFrame(msg)) {
        let r = this.runs.get(msg.runId);
        if (!r) this.runs.set(msg.runId, (r = { frames: [], raw: [] }));
        r.frames.push(msg);
        r.raw.push(raw);
      }
      this.notify();
    });
    this.closed = new Promise<Closed>((resolve) => {
      ws.once('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString(), at: performance.now() };
        resolve(this.closedWith);
        this.notify();
      });
    });
    ws.on('error', () => {
      /* surfaced through 'close' */
    });
  }

  /** Opens a socket; rejects (with the HTTP status in the message) when the upgrade is refused. */
  static async open(url: string, opts: ClientOptions = {}, ms = 5000): Promise<TestWsClient> {
    const ws = new WebSocket(url, opts);
    const client = new TestWsClient(ws);
    await deadline(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)),
        );
        ws.once('error', reject);
      }),
      ms,
      `WebSocket open ${url}`,
    );
    return client;
  }

  /** Opens a socket and waits for the server's hello. */
  static async connect(s: { url: string }, opts: ClientOptions = {}, query = ''): Promise<TestWsClient> {
    const c = await TestWsClient.open(wsUrl(s, query), opts);
    await c.next((m) => m.type === 'hello', 3000, 'hello');
    return c;
  }

  send(msg: ClientMessage | Record<string, unknown> | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /**
   * Resolves when `check` returns something other than undefined; re-checked on every message.
   * Keep `check` cheap: it runs once per message.
   */
  until<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    let waiter!: () => void;
    const p = new Promise<T>((resolve, reject) => {
      waiter = () => {
        let v: T | undefined;
        try {
          v = check();
        } catch (err) {
          this.waiters.delete(waiter);
          return reject(err as Error);
        }
        if (v !== undefined) {
          this.waiters.delete(waiter);
          resolve(v);
        } else if (this.closedWith) {
          this.waiters.delete(waiter);
          reject(new Error(`socket closed (${this.closedWith.code}) while waiting for ${what}`));
        }
      };
      this.waiters.add(waiter);
      if (this.closedWith) waiter();
    });
    return deadline(p, ms, what).finally(() => this.waiters.delete(waiter));
  }

  /** The next not yet consumed message matching `pred` (messages before it are skipped, not consumed). */
  next<M extends ServerMessage = ServerMessage>(
    pred: (m: ServerMessage) => boolean,
    ms = 3000,
    what = 'message',
  ): Promise<M> {
    let scan = this.cursor;
    return this.until(
      () => {
        for (; scan < this.received.length; scan++) {
          if (pred(this.received[scan]!.msg)) {
            this.cursor = scan + 1;
            return this.received[scan]!.msg as M;
          }
        }
        return undefined;
      },
      ms,
      what,
    );
  }

  /** The ack, error or pong answering `requestId` (anywhere in what was received). */
  reply(requestId: string, ms = 3000): Promise<Reply> {
    let scan = 0;
    return this.until(
      () => {
        for (; scan < this.received.length; scan++) {
          const m = this.received[scan]!.msg;
          if (!isRunFrame(m) && 'requestId' in m && m.requestId === requestId) return m as Reply;
        }
        return undefined;
      },
      ms,
      `reply to ${requestId}`,
    );
  }

  /** Sends a request with a fresh requestId and returns its answer. */
  async request(msg: Omit<ClientMessage, 'requestId'> | Record<string, unknown>, ms = 3000): Promise<Reply> {
    const requestId = rid(String(msg.type));
    this.send({ ...msg, requestId });
    return this.reply(requestId, ms);
  }

  /** Starts a run and returns its id (from the ack). */
  async start(userId: string): Promise<string> {
    const r = await this.request({ type: 'start', userId });
    if (r.type !== 'ack') throw new Error(`start ${userId} failed: ${JSON.stringify(r)}`);
    return r.runId;
  }

  /** Proves the socket still works: a ping gets its pong. */
  async alive(ms = 2000): Promise<void> {
    const r = await this.request({ type: 'ping' }, ms);
    if (r.type !== 'pong') throw new Error(`ping got ${JSON.stringify(r)}`);
  }

  frames(runId: string): RunFrame[] {
    return this.runs.get(runId)?.frames ?? [];
  }

  rawFrames(runId: string): string[] {
    return this.runs.get(runId)?.raw ?? [];
  }

  lastSeq(runId: string): number {
    return this.frames(runId).at(-1)?.seq ?? 0;
  }

  /** Waits until the run's latest frame here is terminal; returns the run's frames. */
  settled(runId: string, ms = 10_000): Promise<RunFrame[]> {
    return this.until(
      () => {
        const last = this.frames(runId).at(-1);
        return last && isTerminalFrame(last) ? this.frames(runId) : undefined;
      },
      ms,
      `end of run ${runId}`,
    );
  }

  /** Waits until at least `n` frames of type `type` (any type when omitted) arrived for the run. */
  framesOf(runId: string, n: number, type?: RunFrame['type'], ms = 5000): Promise<RunFrame[]> {
    let seen = 0;
    let scanned = 0;
    return this.until(
      () => {
        const fs = this.frames(runId);
        for (; scanned < fs.length; scanned++) if (!type || fs[scanned]!.type === type) seen++;
        return seen >= n ? fs : undefined;
      },
      ms,
      `${n} ${type ?? ''} frames of ${runId}`,
    );
  }

  hello(): HelloMessage {
    const first = this.received[0]?.msg;
    if (first?.type !== 'hello') throw new Error(`first message is ${JSON.stringify(first)}`);
    return first;
  }

  /** Cuts the TCP connection without a closing handshake; nothing received afterwards is recorded. */
  kill(): void {
    this.recording = false;
    this.ws.terminate();
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    this.ws.close();
    await deadline(this.closed, 3000, 'socket close').catch(() => this.ws.terminate());
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

export interface WsServer {
  /** The server started by the suite's beforeAll (throws before that). */
  readonly server: TestServer;
  /** Connects to `server` (the suite's by default); the socket is closed after the test. */
  connect(server?: { url: string }): Promise<TestWsClient>;
  /** Closes the sockets `connect` opened so far (also done after every test). */
  closeAll(): Promise<void>;
}

/**
 * Registers the hooks of a suite around one test server started with `env`: started in beforeAll,
 * disposed in afterAll, with the sockets opened through `connect` closed after each test.
 */
export function useWsServer(env: Partial<Env> = {}): WsServer {
  let s: TestServer | undefined;
  const open: TestWsClient[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  };
  beforeAll(async () => {
    s = await startTestServer(env);
  });
  afterEach(closeAll);
  afterAll(() => s?.dispose());
  const fixture: WsServer = {
    get server() {
      if (!s) throw new Error('the test server is not started yet (use it inside a test or hook)');
      return s;
    },
    async connect(server = fixture.server) {
      const c = await TestWsClient.connect(server);
      open.push(c);
      return c;
    },
    closeAll,
  };
  return fixture;
}

/** The upgrade's HTTP answer when it is refused (or 101 when it is accepted). */
export function upgradeStatus(
  url: string,
  opts: ClientOptions = {},
  ms = 3000,
): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, opts);
  return deadline(
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.once('open', () => {
        ws.terminate();
        resolve({ status: 101, body: '' });
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          ws.terminate();
        });
      });
      ws.on('error', reject); // terminating a refused handshake may report an error too
    }),
    ms,
    `upgrade ${url}`,
  );
}

/** Seqs must be exactly 1..n. */
export const seqs = (frames: { seq: number }[]): number[] => frames.map((f) => f.seq);
export const oneTo = (n: number, from = 1): number[] =>
  Array.from({ length: n - from + 1 }, (_, i) => from + i);

export const textOf = (frames: RunFrame[]): string =>
  frames.map((f) => (f.type === 'llm_chunk' ? f.content : '')).join('');

export async function getRun(s: TestServer, id: string): Promise<RunDetail> {
  const res = await fetch(`${s.url}/api/v1/runs/${id}`);
  if (res.status !== 200) throw new Error(`GET run ${id}: ${res.status}`);
  return (await res.json()) as RunDetail;
}

/** The run's frame log as stored in the database, exact JSON text. */
export async function storedFrames(s: TestServer, runId: string): Promise<string[]> {
  await s.ctx.manager.flushWrites();
  return s.ctx.runs.framesAfter(runId, 0);
}

/** What makes two runs' results equal: the events, without line numbers or run ids. */
export const eventKeys = (d: RunDetail): string[] =>
  d.events.map((e) => `${e.eventType}|${e.startTime}|${e.endTime}|${e.sourceBehaviorIds.join(',')}`);

/** Polls `check` every 20 ms until it returns something other than undefined. */
export async function poll<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms: number,
  what: string,
): Promise<T> {
  let stopped = false;
  const loop = async (): Promise<T> => {
    while (!stopped) {
      const v = await check();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`stopped polling for ${what}`);
  };
  return deadline(loop(), ms, what).finally(() => (stopped = true));
}
