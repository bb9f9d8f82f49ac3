import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyaddr from 'proxy-addr';
import type { Config } from '../config.js';

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client (a dual-stack listener reports the former). */
const unmapped = (addr: string): string => addr.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

/**
 * The address a request comes from: the peer's, or when the peer is a trusted proxy (TRUST_PROXY) the
 * nearest X-Forwarded-For hop that is not itself trusted. Without TRUST_PROXY the header is ignored, so a
 * client cannot pick its own address.
 */
export function clientAddress(req: IncomingMessage, trust: Config['trustProxy']): string {
  const addr = trust ? proxyaddr(req, trust) : req.socket.remoteAddress;
  return addr ? unmapped(addr) : 'unknown';
}

/** Whether the client reached us over HTTPS: directly, or as a trusted proxy's X-Forwarded-Proto says. */
export function viaHttps(req: IncomingMessage, trust: Config['trustProxy']): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  const peer = req.socket.remoteAddress;
  if (!trust || !peer || !trust(peer, 0)) return false;
  // The first value is the client's side when several proxies each appended theirs.
  const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0];
  return proto?.trim().toLowerCase() === 'https';
}
