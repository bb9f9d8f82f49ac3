import { createConnection, createServer } from 'node:net';

/** A TCP port free on loopback right now (the kernel picks it; another process may still take it). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portIsOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((ok) => {
    const sock = createConnection({ port, host });
    const done = (open: boolean) => {
      sock.destroy();
      ok(open);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Resolves once nothing listens on `port` any more; rejects after `ms`. */
export async function waitForPortClosed(port: number, ms = 10_000, host = '127.0.0.1'): Promise<void> {
  const end = Date.now() + ms;
  while (await portIsOpen(port, host)) {
    if (Date.now() > end) throw new Error(`port ${port} still accepts connections after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
