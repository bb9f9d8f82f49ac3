import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleChat, sendJson, type ChatContext } from './chat-handler.js';
import { FaultQueue, parseFaultSpec, type Fault } from './faults.js';
import { chatRequestSchema, errorBody } from './openai-shapes.js';
import type { Pace } from './pacer.js';

/** How to start the built-in model. */
export interface BuiltinModelOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 40; 0 means as fast as possible. */
  piecesPerSecond?: number;
  /** Default 300. */
  firstPieceDelayMs?: number;
  /** Mixed into the piece-splitting PRNG; default 0. */
  seed?: number;
}

/** A running built-in model: an OpenAI-compatible HTTP server answering by rule. */
export interface BuiltinModel {
  /** e.g. `http://127.0.0.1:54321/v1`, what the openai SDK takes as baseURL. */
  readonly baseURL: string;
  /** `builtin-rules-v1` */
  readonly modelName: string;
  /** Changes the pace, including for responses in flight. */
  setPace(p: { piecesPerSecond?: number; firstPieceDelayMs?: number }): void;
  /** Queues a fault for the next chat request(s). */
  injectFault(f: Fault): void;
  /** 'request' ({@link RequestEvent}) and 'closed' ({@link ClosedEvent}). */
  readonly events: EventEmitter;
  /** Chat responses in flight. */
  activeRequests(): number;
  /** Cuts in-flight responses and stops listening. */
  close(): Promise<void>;
}

export type { ClosedEvent, RequestEvent } from './chat-handler.js';

const MODEL_NAME = 'builtin-rules-v1';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) return null;
    parts.push(part);
  }
  return Buffer.concat(parts);
}

async function route(ctx: ChatContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
  if (path === '/v1/models' && req.method === 'GET') {
    const model = { id: ctx.modelName, object: 'model', created: 0, owned_by: 'builtin' };
    return sendJson(res, 200, { object: 'list', data: [model] });
  }
  if (path !== '/v1/chat/completions') return sendJson(res, 404, errorBody(404, `Unknown path ${path}`));
  if (req.method !== 'POST') return sendJson(res, 405, errorBody(405), { allow: 'POST' });
  const raw = await readBody(req);
  if (!raw) return sendJson(res, 413, errorBody(413));
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return sendJson(res, 400, errorBody(400, 'The request body is not valid JSON.'));
  }
  const parsed = chatRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join('.') || null;
    return sendJson(res, 400, errorBody(400, `${param ?? 'body'}: ${issue.message}`, param));
  }
  handleChat(ctx, parsed.data, res);
}

/** Starts the built-in model; faults from `BUILTIN_MODEL_FAULT` (see {@link parseFaultSpec}) are queued. */
export async function startBuiltinModel(opts: BuiltinModelOptions = {}): Promise<BuiltinModel> {
  const pace: Pace = {
    piecesPerSecond: opts.piecesPerSecond ?? 40,
    firstPieceDelayMs: opts.firstPieceDelayMs ?? 300,
  };
  const faults = new FaultQueue();
  for (const f of parseFaultSpec(process.env.BUILTIN_MODEL_FAULT ?? '')) faults.push(f);
  const ctx: ChatContext = {
    modelName: MODEL_NAME,
    seed: opts.seed ?? 0,
    pace: () => pace,
    faults,
    events: new EventEmitter(),
    active: new Map(),
  };
  const server = createServer((req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      // A client vanishing mid-upload lands here; anything else is a bug worth a 500.
      if (res.headersSent || res.destroyed) return void res.destroy();
      sendJson(res, 500, errorBody(500, err instanceof Error ? err.message : String(err)));
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    baseURL: `http://${urlHost}:${port}/v1`,
    modelName: MODEL_NAME,
    events: ctx.events,
    setPace(p) {
      if (p.piecesPerSecond !== undefined) pace.piecesPerSecond = Math.max(0, p.piecesPerSecond);
      if (p.firstPieceDelayMs !== undefined) pace.firstPieceDelayMs = Math.max(0, p.firstPieceDelayMs);
      for (const a of ctx.active.values()) a.pacer.repace();
    },
    injectFault: (f) => faults.push(f),
    activeRequests: () => ctx.active.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const a of ctx.active.values()) a.cut();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
