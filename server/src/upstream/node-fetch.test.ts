import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { APIError, APIUserAbortError, AuthenticationError, RateLimitError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPrompt } from '../llm/prompt.js';
import { deriveEventLines } from '../model/rules.js';
import { startBuiltinModel, type BuiltinModel } from '../model/server.js';
import { BEHAVIOURS, USER, withDeadline } from '../model/test-fixtures.js';
import { readChatStream } from './chat-stream.js';
import { claimNodeBody, createNodeFetch } from './node-fetch.js';

const MESSAGES = buildPrompt({ user: USER, behaviours: BEHAVIOURS, budgetChars: 10_000 }).messages;

const chunkOf = (content: string): ChatCompletionChunk => ({
  id: 'chatcmpl-test',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});
const sse = (data: unknown): string => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const contentOf = (chunks: ChatCompletionChunk[]): string =>
  chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

/** Resolves with `p`, or rejects when it has not settled within `ms`. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** How `p` settled, failing when it does not settle within `ms`. */
const outcome = (ms: number, p: Promise<unknown>, what: string) =>
  within(
    ms,
    p.then(
      (value) => ({ resolved: true as const, value }),
      (error: unknown) => ({ resolved: false as const, error }),
    ),
    what,
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

interface TestUpstream {
  baseURL: string;
  server: http.Server;
  connections: number;
  /** Resolves when the next chat request's connection closes. */
  closed: Promise<void>;
}

const servers: http.Server[] = [];

/** A chat endpoint answering with `handler`; `closed` tracks the first request's connection. */
async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestUpstream> {
  let onClosed!: () => void;
  const up: TestUpstream = {
    baseURL: '',
    server: http.createServer(),
    connections: 0,
    closed: new Promise<void>((r) => (onClosed = r)),
  };
  const listener: RequestListener = (req, res) => {
    req.resume();
    res.once('close', onClosed);
    handler(req, res);
  };
  up.server.on('request', listener);
  up.server.on('connection', () => up.connections++);
  servers.push(up.server);
  await new Promise<void>((resolve, reject) => {
    up.server.once('error', reject);
    up.server.listen(0, '127.0.0.1', () => resolve());
  });
  up.baseURL = `http://127.0.0.1:${(up.server.address() as AddressInfo).port}/v1`;
  return up;
}

const sdk = (baseURL: string, fetch: typeof globalThis.fetch = createNodeFetch()) =>
  new OpenAI({ baseURL, apiKey: 'sk-test', maxRetries: 0, timeout: 5_000, fetch });

const streamResponse = (client: OpenAI, signal?: AbortSignal) =>
  client.chat.completions
    .create({ model: 'm', messages: [{ role: 'user', content: '你好' }], stream: true }, { signal })
    .asResponse();

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

describe('createNodeFetch + readChatStream against the built-in model', () => {
  let model: BuiltinModel;
  const expected = deriveEventLines(USER.id, BEHAVIOURS)
    .map((l) => `${l}\n`)
    .join('');

  beforeAll(async () => {
    model = await startBuiltinModel({ piecesPerSecond: 0, firstPieceDelayMs: 0, seed: 7 });
  });
  afterAll(() => model.close());

  const request = (client: OpenAI, signal: AbortSignal) =>
    client.chat.completions.create(
      { model: model.modelName, messages: MESSAGES, stream: true, stream_options: { include_usage: true } },
      { signal },
    );

  it('reads the same chunks as the SDK’s own stream, over this fetch and over undici', async () => {
    const client = sdk(model.baseURL);
    const lean = await withDeadline(5_000, async (signal) => {
      const out: ChatCompletionChunk[] = [];
      await readChatStream(await request(client, signal).asResponse(), (c) => out.push(c));
      return out;
    });
    const viaSdk = async (c: OpenAI) =>
      withDeadline(5_000, async (signal) => {
        const out: ChatCompletionChunk[] = [];
        for await (const chunk of await request(c, signal)) out.push(chunk);
        return out;
      });
    const sdkNode = await viaSdk(client); // the SDK reads this fetch's lazy web body
    const sdkUndici = await viaSdk(sdk(model.baseURL, globalThis.fetch));

    expect(contentOf(lean)).toBe(expected);
    expect(lean.length).toBeGreaterThan(10);
    // Equal but for the per-response id and timestamp.
    const shape = (cs: ChatCompletionChunk[]) => cs.map(({ id: _id, created: _created, ...rest }) => rest);
    expect(shape(lean)).toEqual(shape(sdkNode));
    expect(shape(lean)).toEqual(shape(sdkUndici));
    expect(lean.at(-1)!.usage).toBeTruthy();
  });

  it('hands the SDK’s asResponse() the Response it made: its Node body is claimed once', async () => {
    const client = sdk(model.baseURL);
    await withDeadline(5_000, async (signal) => {
      const response = await request(client, signal).asResponse();
      const body = claimNodeBody(response);
      expect(body).not.toBeNull();
      expect(claimNodeBody(response)).toBeNull();
      body!.setEncoding('utf8');
      let text = '';
      for await (const part of body!) text += part as string;
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);

      // Once its web body is read, the Node body is no longer on offer.
      const read = await request(client, signal).asResponse();
      expect(await read.text()).toContain('data: [DONE]');
      expect(claimNodeBody(read)).toBeNull();
    });
  });
});

describe('createNodeFetch + readChatStream against a hand-written upstream', () => {
  it('joins a UTF-8 character split across TCP writes', async () => {
    const bytes = Buffer.from(sse(chunkOf('看车，试驾')) + sse('[DONE]'), 'utf8');
    const cut = bytes.indexOf(Buffer.from('看', 'utf8')) + 1; // inside the 3-byte character
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(bytes.subarray(0, cut));
      setTimeout(() => res.end(bytes.subarray(cut)), 20);
    });
    const client = sdk(up.baseURL);

    // The bytes do arrive in two reads, the first ending inside the character.
    const raw = claimNodeBody(await streamResponse(client))!;
    const reads = await within(2_000, collect(raw as AsyncIterable<Buffer>), 'raw body');
    expect(reads.map((r) => r.length)).toEqual([cut, bytes.length - cut]);

    const lean: ChatCompletionChunk[] = [];
    await within(
      2_000,
      readChatStream(await streamResponse(client), (c) => lean.push(c)),
      'readChatStream',
    );
    expect(contentOf(lean)).toBe('看车，试驾');

    const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
    expect(contentOf(await within(2_000, collect(stream), 'SDK stream'))).toBe('看车，试驾');
  });

  it('turns error statuses into the SDK’s APIError, reading the error body through the web stream', async () => {
    const up = await upstream((req, res) => {
      const status = Number(req.headers['x-want']);
      if (status === 500) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end('上游崩了');
      }
      const error =
        status === 429
          ? { message: '请求太频繁，请稍后再试', type: 'rate_limit_error', code: 'rate_limit_exceeded' }
          : { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' };
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error }));
    });
    const client = sdk(up.baseURL);
    const fail = async (status: number) => {
      const r = await outcome(
        2_000,
        client.chat.completions
          .create({ model: 'm', messages: [], stream: true }, { headers: { 'x-want': String(status) } })
          .asResponse(),
        `status ${status}`,
      );
      expect(r.resolved).toBe(false);
      return (r as { error: unknown }).error as APIError;
    };

    const limited = await fail(429);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.status).toBe(429);
    expect(limited.message).toBe('429 请求太频繁，请稍后再试');
    expect(limited.code).toBe('rate_limit_exceeded');
    expect(limited.headers?.get('retry-after')).toBe('1');

    const denied = await fail(401);
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect(denied.status).toBe(401);
    expect(denied.message).toBe('401 Incorrect API key provided');

    const crashed = await fail(500);
    expect(crashed).toBeInstanceOf(APIError);
    expect(crashed.status).toBe(500);
    expect(crashed.message).toContain('上游崩了');

    // Each error body was read to its end, so one keep-alive connection served all three.
    expect(up.connections).toBe(1);
  });

  it('closes the upstream connection when aborted after the first chunk; the read rejects promptly', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(chunkOf('看车')));
    });
    const ac = new AbortController();
    const response = await within(2_000, streamResponse(sdk(up.baseURL), ac.signal), 'headers');
    const got: ChatCompletionChunk[] = [];
    const read = outcome(
      1_000,
      readChatStream(response, (c) => {
        got.push(c);
        ac.abort();
      }),
      'readChatStream',
    );
    await within(1_000, up.closed, 'upstream close');
    const r = await read;
    expect(r.resolved).toBe(false);
    expect(contentOf(got)).toBe('看车');
  });

  it('closes the upstream connection when the SDK’s own stream is aborted mid-body', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(chunkOf('看车')));
    });
    const ac = new AbortController();
    const stream = await within(
      2_000,
      sdk(up.baseURL).chat.completions.create(
        { model: 'm', messages: [], stream: true },
        { signal: ac.signal },
      ),
      'headers',
    );
    const got: ChatCompletionChunk[] = [];
    const read = outcome(
      1_000,
      (async () => {
        for await (const c of stream) {
          got.push(c);
          ac.abort();
        }
      })(),
      'SDK stream',
    );
    await within(1_000, up.closed, 'upstream close');
    const r = await read;
    expect(r.resolved).toBe(false);
    expect(got).toHaveLength(1);
  });

  it('closes the request when aborted before the headers; the SDK throws APIUserAbortError', async () => {
    let received!: () => void;
    const arrived = new Promise<void>((r) => (received = r));
    const up = await upstream(() => received()); // never answers
    const ac = new AbortController();
    const pending = outcome(2_000, streamResponse(sdk(up.baseURL), ac.signal), 'request');
    await within(1_000, arrived, 'request arrival');
    ac.abort();
    await within(1_000, up.closed, 'upstream close');
    const r = await pending;
    expect(r.resolved).toBe(false);
    expect((r as { error: unknown }).error).toBeInstanceOf(APIUserAbortError);
  });

  it('rejects with the SDK’s APIError on a `data: {"error": …}` chunk and stops reading', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_42' });
      res.write(sse(chunkOf('看车')));
      res.write(sse({ error: { message: '上游过载', type: 'server_error', code: 'overloaded' } }));
      // …and the connection stays open: the reader must not wait for its end.
    });
    const response = await within(2_000, streamResponse(sdk(up.baseURL)), 'headers');
    const got: ChatCompletionChunk[] = [];
    const r = await outcome(
      1_000,
      readChatStream(response, (c) => got.push(c)),
      'readChatStream',
    );
    expect(r.resolved).toBe(false);
    const err = (r as { error: unknown }).error as APIError;
    expect(err).toBeInstanceOf(APIError);
    expect(err.message).toBe('上游过载');
    expect(err.code).toBe('overloaded');
    expect(err.requestID).toBe('req_42');
    expect(contentOf(got)).toBe('看车');
    await within(1_000, up.closed, 'upstream close after the error chunk');
  });

  it('rejects, not resolves, when the connection is destroyed mid-body', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(chunkOf('看车')));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const client = sdk(up.baseURL);
    const got: ChatCompletionChunk[] = [];
    const response = await within(2_000, streamResponse(client), 'headers');
    const r = await outcome(
      1_000,
      readChatStream(response, (c) => got.push(c)),
      'readChatStream',
    );
    expect(r.resolved).toBe(false);
    expect(contentOf(got)).toBe('看车');

    // The SDK's own stream over the lazy web body fails too.
    const stream = await within(
      2_000,
      client.chat.completions.create({ model: 'm', messages: [], stream: true }),
      'headers',
    );
    const viaSdk = await outcome(1_000, collect(stream), 'SDK stream');
    expect(viaSdk.resolved).toBe(false);
  });

  it('claimNodeBody returns null for a Response this fetch did not make', async () => {
    expect(claimNodeBody(new Response('data: [DONE]\n\n'))).toBeNull();
    const up = await upstream((_req, res) => res.end(sse('[DONE]')));
    const foreign = await within(2_000, fetch(`${up.baseURL}/chat/completions`, { method: 'POST' }), 'fetch');
    expect(claimNodeBody(foreign)).toBeNull();
    // readChatStream falls back to the web body for it.
    await within(
      1_000,
      readChatStream(foreign, () => {}),
      'readChatStream (web body)',
    );
  });

  // IncomingMessage emits 'error' only to listeners present at the time: a body first read after
  // its connection dropped must still settle instead of waiting forever.
  it('settles a body first read after its connection dropped', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(chunkOf('看车')));
      setTimeout(() => res.socket?.destroy(), 10);
    });
    const response = await within(2_000, streamResponse(sdk(up.baseURL)), 'headers');
    await within(1_000, up.closed, 'upstream close');
    await sleep(50);
    await outcome(
      300,
      readChatStream(response, () => {}),
      'readChatStream after the drop',
    );
  });
});

describe('statuses and redirects', () => {
  /** A server whose requests are recorded, answering by path. */
  async function routes(
    answer: (req: IncomingMessage, body: string, res: ServerResponse) => void,
  ): Promise<{ base: string; seen: { method: string; url: string; body: string; auth?: string }[] }> {
    const seen: { method: string; url: string; body: string; auth?: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body, auth: req.headers.authorization });
        answer(req, body, res);
      });
    });
    servers.push(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  it('follows 307 with the same POST body and 303 as a GET, like the standard fetch', async () => {
    const up = await routes((req, _body, res) => {
      if (req.url === '/a') return void res.writeHead(307, { location: '/b' }).end();
      if (req.url === '/b') return void res.writeHead(303, { location: '/c' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":"看车"}');
    });
    const f = createNodeFetch();
    const res = await within(2_000, f(`${up.base}/a`, { method: 'POST', body: '{"q":"试驾"}' }), 'fetch');
    expect(await res.json()).toEqual({ ok: '看车' });
    expect(up.seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/a', '{"q":"试驾"}'],
      ['POST', '/b', '{"q":"试驾"}'],
      ['GET', '/c', ''],
    ]);
  });

  it('refuses a redirect loop after 20 hops instead of following it forever', async () => {
    const up = await routes((_req, _body, res) => void res.writeHead(302, { location: '/again' }).end());
    const r = await outcome(5_000, createNodeFetch()(`${up.base}/loop`), 'the loop');
    expect(r.resolved).toBe(false);
    expect(up.seen.length).toBe(21);
  });

  it('rejects a status a Response cannot carry instead of crashing the process; 205 has no body', async () => {
    const up = await routes((req, _body, res) => {
      const raw = res.socket!;
      // node:http refuses to send 600, so it is written by hand.
      if (req.url === '/600') return void raw.end('HTTP/1.1 600 Odd\r\ncontent-length: 2\r\n\r\nno');
      res.writeHead(205).end();
    });
    const f = createNodeFetch();
    const odd = await outcome(2_000, f(`${up.base}/600`), '600');
    expect(odd.resolved).toBe(false);
    expect((odd as { error: unknown }).error).toBeInstanceOf(TypeError);
    const reset = await within(2_000, f(`${up.base}/205`), '205');
    expect(reset.status).toBe(205);
    expect(reset.body).toBeNull();
  });
});
