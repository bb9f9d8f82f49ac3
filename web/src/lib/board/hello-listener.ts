import { helloMessageSchema, type HelloMessage } from '@app/shared';
import type { WebSocketCtor, WebSocketLike } from '@app/shared/client';

type Listening = WebSocketLike & {
  addEventListener?(type: 'message', cb: (ev: { data: unknown }) => void): void;
  removeEventListener?(type: 'message', cb: (ev: { data: unknown }) => void): void;
};

/**
 * A WebSocket constructor whose sockets report the server's hello (the first message on every socket).
 * The shared client keeps the hello (`client.hello`) but announces no event, and the board must know
 * the server's limits before it starts runs; a listener beside the client's own `onmessage` hears it.
 */
export function hearingHello(WebSocket: WebSocketCtor, onHello: (h: HelloMessage) => void): WebSocketCtor {
  return class {
    constructor(url: string) {
      const ws = new WebSocket(url) as Listening;
      const first = (ev: { data: unknown }): void => {
        ws.removeEventListener?.('message', first);
        const hello = parseHello(ev.data);
        if (hello) onHello(hello);
      };
      ws.addEventListener?.('message', first);
      // A constructor may return another object: callers get the real socket.
      return ws;
    }
  } as unknown as WebSocketCtor;
}

/** The hello in a socket message, or null when the message is something else. */
export function parseHello(data: unknown): HelloMessage | null {
  if (typeof data !== 'string' || !data.includes('"hello"')) return null;
  try {
    const r = helloMessageSchema.safeParse(JSON.parse(data));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
