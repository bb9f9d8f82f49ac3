import type { WebSocketCtor } from '@app/shared/client';
import { api, ApiError } from '../api';
import { probeWebSocket } from './probe-websocket';
import { SseTransport } from './sse-transport';
import { TransportSwitch } from './transport-switch';
import type { Transport, TransportHandlers } from './transport';
import { WsTransport } from './ws-transport';

/** The browser's WebSocket, if it has one. */
const browserWebSocket = (): WebSocketCtor | undefined =>
  (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;

/** 401 is not "WebSocket blocked": the token prompt shows and the page reloads with the cookie. */
const healthAnswers = (): Promise<boolean> =>
  fetch('/api/v1/health', { cache: 'no-store' }).then(
    (r) => r.ok,
    () => false,
  );

/** A run's stored status for an SSE watch (a stream has no subscribe answer); unknown runs throw. */
const storedStatus = (runId: string) =>
  api.run(runId).then(
    (d) => d.status,
    (err: unknown) => {
      if (err instanceof ApiError && err.code === 'run_not_found') throw err;
      return null;
    },
  );

/**
 * The board's transport switch in this browser: the page's own WebSocket and EventSource, same origin.
 * `on(kind)` gives the handlers of a transport of that kind; `busy` says whether requests are in flight.
 */
export function browserLink(on: (kind: Transport['kind']) => TransportHandlers, busy: () => boolean) {
  return new TransportSwitch({
    WebSocket: browserWebSocket,
    ws: (WebSocket, blocked) => new WsTransport({ WebSocket, on: on('ws'), blocked, httpUp: healthAnswers }),
    sse: () => new SseTransport(globalThis.EventSource, on('sse'), storedStatus),
    probe: (WebSocket) => probeWebSocket(WebSocket),
    busy,
  });
}
