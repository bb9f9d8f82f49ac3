// Test-only transports: a TCP proxy that can lose a connection, and an EventSource for Node 20.
import { connect, createServer, type Socket } from 'node:net';
import { createParser } from 'eventsource-parser';
import type { EventSourceLike } from './sse-watch.js';

/**
 * A TCP proxy in front of the server that can lose the connection like a network would: `cutBefore`
 * drops the first server→client chunk holding `marker` (and all after it) and kills both sides.
 */
export async function startCutProxy(targetPort: number): Promise<{
  url: string;
  cutBefore(marker: string): Promise<void>;
  close(): Promise<void>;
}> {
  let armed: { marker: string; done: () => void } | null = null;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((down) => {
    const up = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    let tail = '';
    const kill = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('data', (b) => up.write(b));
    up.on('data', (b: Buffer) => {
      const seen = tail + b.toString('latin1');
      tail = seen.slice(-64);
      if (armed && seen.includes(armed.marker)) {
        const a = armed;
        armed = null;
        kill();
        return a.done();
      }
      down.write(b);
    });
    down.on('close', kill).on('error', kill);
    up.on('close', kill).on('error', kill);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cutBefore: (marker) => new Promise<void>((done) => (armed = { marker, done })),
    close: () =>
      new Promise<void>((ok) => {
        for (const pair of pairs) for (const sock of pair) sock.destroy();
        server.close(() => ok());
      }),
  };
}

/**
 * Node 20 has no EventSource: a small one over fetch with the behaviour watchRunSse relies on
 * (Last-Event-ID on reconnect, CLOSED on a non-200 answer, error events), retrying after `retryMs`.
 */
export function testEventSource(retryMs = 30): new (url: string) => EventSourceLike {
  return class TestEventSource implements EventSourceLike {
    readyState = 0;
    onmessage: EventSourceLike['onmessage'] = null;
    onerror: EventSourceLike['onerror'] = null;
    private lastId = '';
    private readonly ac = new AbortController();

    constructor(private readonly url: string) {
      void this.connect();
    }

    close(): void {
      this.readyState = 2;
      this.ac.abort();
    }

    private async connect(): Promise<void> {
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (this.lastId) headers['last-event-id'] = this.lastId;
        const res = await fetch(this.url, { headers, signal: this.ac.signal });
        if (res.status !== 200 || !res.body) {
          this.readyState = 2;
          return this.onerror?.({ type: 'error' });
        }
        this.readyState = 1;
        const parser = createParser({
          onEvent: (m) => {
            if (m.id !== undefined) this.lastId = m.id;
            if (this.readyState !== 2) this.onmessage?.({ data: m.data, lastEventId: this.lastId });
          },
        });
        const decoder = new TextDecoder();
        for await (const chunk of res.body)
          parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      } catch {
        // a network failure: reconnect below, as EventSource does
      }
      if (this.readyState === 2) return;
      this.readyState = 0;
      this.onerror?.({ type: 'error' });
      setTimeout(() => this.readyState !== 2 && void this.connect(), retryMs);
    }
  };
}
