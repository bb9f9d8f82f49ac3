import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'es_token';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison: hashing first makes the lengths equal, so nothing leaks through timing. */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token a request carries: Authorization: Bearer, the UI's cookie, or ?token= (EventSource, browsers' WebSocket). */
export function tokenOf(headers: IncomingMessage['headers'] | Headers, url: string): string | null {
  const get = (k: string): string | undefined =>
    headers instanceof Headers ? (headers.get(k) ?? undefined) : (headers[k] as string | undefined);
  const auth = get('authorization');
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const cookie = get('cookie');
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === TOKEN_COOKIE) return decodeURIComponent(v.join('='));
    }
  }
  const q = new URL(url, 'http://x').searchParams.get('token');
  return q;
}
