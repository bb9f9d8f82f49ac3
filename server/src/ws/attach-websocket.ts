import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../http/context.js';
import { tokenMatches, tokenOf } from '../http/auth.js';
import { clientAddress } from '../http/client-address.js';
import { hostAllowed, hostRefusal } from '../http/host-check.js';
import { Channel } from './channel.js';

export const WS_PATH = '/api/v1/ws';

const servers = new WeakMap<AppContext, WebSocketServer>();

/** The open server-side sockets of a server, e.g. for a test to sample their bufferedAmount. */
export function serverSockets(ctx: AppContext): WebSocket[] {
  return [...(servers.get(ctx)?.clients ?? [])];
}

/** Refuses an upgrade with a plain HTTP answer and a JSON body, then closes the socket. */
function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * A browser always sends Origin: only the server's own origin and ALLOWED_ORIGINS may drive runs, so a
 * page on another site cannot hijack a visitor's socket. Clients without Origin (CLI, scripts) pass.
 * "Own origin" compares with Host, which is only trusted once the Host check has passed.
 */
export function originAllowed(req: IncomingMessage, allowed: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** The WebSocket channel on the HTTP server's upgrade event (plain `ws`, noServer). */
export function attachWebSocket(
  server: Server,
  ctx: AppContext,
): { clients(): number; close(graceMs: number): Promise<void> } {
  const { config } = ctx;
  // maxPayload: ws itself closes with 1009 when a message is larger.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.WS_MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  servers.set(ctx, wss);
  const alive = new WeakMap<WebSocket, boolean>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!hostAllowed(config, req.headers.host)) {
      return refuse(socket, 403, 'host_not_allowed', hostRefusal(req.headers.host));
    }
    if (path !== WS_PATH) return refuse(socket, 404, 'not_found', `WebSocket endpoint is ${WS_PATH}.`);
    if (!originAllowed(req, config.allowedOrigins)) {
      return refuse(socket, 403, 'forbidden_origin', `Origin ${req.headers.origin} is not allowed.`);
    }
    if (config.API_TOKEN && !tokenMatches(tokenOf(req.headers, req.url ?? '/'), config.API_TOKEN)) {
      return refuse(socket, 401, 'unauthorized', 'This server requires a token.');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const channel = new Channel(ws, ctx, socket, clientAddress(req, config.trustProxy));
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('message', (data, isBinary) => channel.onMessage(data as Buffer, isBinary));
      ws.on('close', () => channel.close());
      ws.on('error', (err) => ctx.log.debug({ err }, 'websocket error'));
    });
  });

  // A peer that misses a whole interval of pings is gone (half-open TCP): drop it.
  const heartbeat =
    config.WS_HEARTBEAT_MS > 0
      ? setInterval(() => {
          for (const ws of wss.clients) {
            if (!alive.get(ws)) {
              ws.terminate();
              continue;
            }
            alive.set(ws, false);
            ws.ping();
          }
        }, config.WS_HEARTBEAT_MS)
      : null;
  heartbeat?.unref();

  return {
    clients: () => wss.clients.size,
    /**
     * Closes every socket with 1001 once it has sent what is queued (the runs' final frames among
     * it); a socket still congested, or a peer that does not finish the closing handshake, is cut
     * after `graceMs`.
     */
    close: async (graceMs) => {
      if (heartbeat) clearInterval(heartbeat);
      const until = Date.now() + graceMs;
      // ws has no event for "everything written"; polling bufferedAmount is cheap and bounded.
      while ([...wss.clients].some((ws) => ws.bufferedAmount > 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => {
        wss.close(() => resolve());
        setTimeout(
          () => {
            for (const ws of wss.clients) ws.terminate();
          },
          Math.max(0, until - Date.now()),
        ).unref();
      });
    },
  };
}
