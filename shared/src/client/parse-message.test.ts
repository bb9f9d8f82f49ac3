import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { PROTOCOL_VERSION, type ClientMessage } from '../ws-protocol.js';
import type { InvalidMessage } from './parse-message.js';
import { StreamClient } from './stream-client.js';
import { ClientError } from './types.js';

/** A socket server this test scripts by hand: what a broken or newer server might send. */
async function scriptedServer(onMessage: (ws: WebSocket, m: ClientMessage) => void) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((ok) => wss.once('listening', ok));
  wss.on('connection', (ws) => {
    ws.send(
      JSON.stringify({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        model: 'scripted',
        limits: { maxMessageBytes: 1000, maxRunsPerSocket: 1, heartbeatMs: 0 },
      }),
    );
    ws.on('message', (d) => onMessage(ws, JSON.parse(String(d)) as ClientMessage));
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, close: () => new Promise<void>((ok) => wss.close(() => ok())) };
}

describe('the client parses what it receives instead of casting it', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('reports a message that is not JSON, of an unknown type, or malformed, and acts on none of them', async () => {
    const runId = 'run_AAAAAAAAAAAA';
    const server = await scriptedServer((ws, m) => {
      if (m.type !== 'subscribe') return;
      ws.send('not json');
      ws.send(JSON.stringify({ type: 'launch', runId }));
      // A frame without its seq, and a request error in protocol 1's shape (`error` without `seq`).
      ws.send(JSON.stringify({ type: 'llm_chunk', runId, content: '看车' }));
      ws.send(
        JSON.stringify({
          type: 'error',
          code: 'run_not_found',
          message: 'x',
          retryable: false,
          requestId: m.requestId,
        }),
      );
      ws.send(
        JSON.stringify({
          type: 'request_error',
          code: 'run_not_found',
          message: 'gone',
          retryable: false,
          requestId: m.requestId,
          runId,
        }),
      );
    });
    cleanup.push(server.close);
    const client = new StreamClient({ url: server.url, WebSocket, network: null, requestTimeoutMs: 3000 });
    cleanup.push(() => client.close());
    const invalid: InvalidMessage[] = [];
    const frames: unknown[] = [];
    client.onInvalidMessage((m) => invalid.push(m));
    client.onFrame((f) => frames.push(f));

    const refused = await client.watch(runId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ClientError);
    expect(refused).toMatchObject({ code: 'run_not_found', message: 'gone' });
    expect(invalid.map((m) => [m.reason, m.type])).toEqual([
      ['not_json', undefined],
      ['unknown_type', 'launch'],
      ['malformed', 'llm_chunk'],
      ['malformed', 'error'],
    ]);
    expect(invalid[2]!.detail).toMatch(/^seq: /);
    expect(frames).toEqual([]);
    expect(client.hello?.protocol).toBe(PROTOCOL_VERSION);
  });
});
