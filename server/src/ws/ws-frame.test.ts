import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { wsTextFrame } from './ws-sink.js';

let server: Server;
let url: string;
// Each length sits on a boundary of the header's 7-bit, 16-bit and 64-bit size forms.
const ofBytes = (n: number) => '看车试驾'.repeat(n).slice(0, Math.floor(n / 3)) + 'x'.repeat(n % 3);
const texts = [0, 1, 125, 126, 127, 65_535, 65_536, 200_001].map(ofBytes);

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server = createServer();
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, () => {
      for (const t of texts) socket.write(wsTextFrame(t));
    }),
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

it('pre-built frames of every header size arrive intact at a standard client, Chinese unescaped', async () => {
  const ws = new WebSocket(url);
  const got: string[] = [];
  await new Promise<void>((ok, fail) => {
    const deadline = setTimeout(() => fail(new Error(`only ${got.length} frames in 5 s`)), 5_000);
    ws.on('message', (data, isBinary) => {
      expect(isBinary).toBe(false);
      got.push(String(data));
      if (got.length === texts.length) {
        clearTimeout(deadline);
        ok();
      }
    });
    ws.on('error', fail);
  });
  ws.terminate();
  expect(got.map((t) => Buffer.byteLength(t))).toEqual([0, 1, 125, 126, 127, 65_535, 65_536, 200_001]);
  expect(got).toEqual(texts);
  expect(got[2]).toContain('看车');
});
