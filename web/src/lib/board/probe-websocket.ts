import type { WebSocketCtor, WebSocketLike } from '@app/shared/client';
import { wsUrl } from './transport';

/** A connection that stays up this long proves WebSocket works here. */
export const STABLE_MS = 3000;

/**
 * Whether WebSocket works here now: a socket that gets the server's hello and stays open `holdMs`
 * (a proxy that accepts the upgrade and cuts it at once does not count). Settles within `holdMs` + 5 s.
 */
export function probeWebSocket(
  WebSocket: WebSocketCtor,
  holdMs = STABLE_MS,
  url = wsUrl(),
): Promise<boolean> {
  return new Promise((resolve) => {
    let ws: WebSocketLike;
    try {
      ws = new WebSocket(url);
    } catch {
      return resolve(false);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close();
      resolve(ok);
    };
    timer = setTimeout(() => done(false), 5000);
    ws.onmessage = () => {
      ws.onmessage = null;
      clearTimeout(timer);
      timer = setTimeout(() => done(true), holdMs);
    };
    ws.onclose = ws.onerror = () => done(false);
  });
}
