/**
 * The load-generating model: an OpenAI-compatible streaming endpoint (node:http) that costs as little
 * as possible per piece. Every chunk is a pre-encoded SSE frame with only the piece text (see
 * piece.ts: index and send time) spliced in.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pieceText } from './piece.js';
import { clockMs, serveIpc } from './procs.js';

/** What the next responses look like; changed between phases over IPC. */
export interface ModelPace {
  pieces: number;
  /** 0 = as fast as the socket takes them. */
  piecesPerSecond: number;
}

const HEAD =
  'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[{"index":0,"delta":{"content":"';
const TAIL = '"},"logprobs":null,"finish_reason":null}]}\n\n';
const FINISH =
  'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n';
const USAGE =
  'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":100,"total_tokens":200}}\n\ndata: [DONE]\n\n';

/** pieceText() inside a pre-encoded chunk (only the line break needs JSON escaping). */
const encoded = (i: number, t: number) => HEAD + pieceText(i, t).replace('\n', '\\n') + TAIL;

const pace: ModelPace = { pieces: 100, piecesPerSecond: 50 };
const stats = { streams: 0, active: 0, pieces: 0 };

/** Plays one response: piece i is due i gaps after the first, which goes out at once. */
function play(res: ServerResponse, count: number, perSecond: number): void {
  stats.streams++;
  stats.active++;
  let i = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const start = clockMs();
  const gap = perSecond > 0 ? 1000 / perSecond : 0;
  const finish = () => {
    stopped = true;
    stats.active--;
    if (timer) clearTimeout(timer);
  };
  res.once('close', () => {
    if (!stopped) finish();
  });
  const tick = (): void => {
    timer = null;
    if (stopped) return;
    if (gap === 0) {
      // Flat out: bursts, and wait for the socket when it is full.
      let ok = true;
      for (let n = 0; n < 200 && i < count && ok; n++, i++) ok = res.write(encoded(i, clockMs()));
      if (i < count) {
        if (ok) setImmediate(tick);
        else res.once('drain', tick);
        return;
      }
    } else {
      const now = clockMs();
      while (i < count && start + i * gap <= now) {
        res.write(encoded(i, clockMs()));
        i++;
      }
      if (i < count) {
        timer = setTimeout(tick, Math.max(0, start + i * gap - clockMs()));
        return;
      }
    }
    stats.pieces += count;
    res.end(FINISH + USAGE);
    finish();
  };
  tick();
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
    // The prompt is read and dropped: this model always answers with bench pieces.
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      play(res, pace.pieces, pace.piecesPerSecond);
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send!({ ready: true, baseURL: `http://127.0.0.1:${port}/v1` });
});

serveIpc((m) => {
  if (m.cmd === 'pace') {
    Object.assign(pace, m.pace as ModelPace);
    return { pace };
  }
  if (m.cmd === 'stats') return { ...stats };
  throw new Error(`unknown command ${String(m.cmd)}`);
});
