import type { Server, ServerResponse } from 'node:http';

/** The responses a server has in flight (SSE streams among them), so a shutdown can let them end. */
export interface OpenResponses {
  /** Resolves true once every response has ended (its bytes handed to the OS), false after `ms`. */
  ended(ms: number): Promise<boolean>;
}

/** Tracks `server`'s responses from now on; upgraded (WebSocket) requests are not responses. */
export function trackResponses(server: Server): OpenResponses {
  const open = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  server.on('request', (_req, res: ServerResponse) => {
    open.add(res);
    // 'close' follows 'finish' (body handed off) or a connection that went away.
    res.once('close', () => {
      open.delete(res);
      if (open.size === 0) for (const w of waiters) w();
    });
  });
  return {
    ended: (ms) =>
      new Promise<boolean>((resolve) => {
        if (open.size === 0) return resolve(true);
        const done = (ok: boolean) => {
          clearTimeout(timer);
          waiters.delete(onEmpty);
          resolve(ok);
        };
        const onEmpty = () => done(true);
        const timer = setTimeout(() => done(false), ms);
        waiters.add(onEmpty);
      }),
  };
}
