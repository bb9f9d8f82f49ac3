import { isHostAllowed } from 'host-validation-middleware';
import type { MiddlewareHandler } from 'hono';
import type { Config } from '../config.js';
import { errorJson } from './respond.js';

/**
 * Whether a request's Host names this server, so a page whose domain was rebound to our address (DNS
 * rebinding) is refused. Always allowed, as by Vite's dev server: IP addresses, `localhost` and
 * `*.localhost` (none of them can be rebound), and a request without Host (browsers always send one;
 * over HTTP the adapter answers it 400 before this check). Besides them: HOST when it is a name, and
 * ALLOWED_HOSTS.
 */
export function hostAllowed(config: Pick<Config, 'allowedHosts'>, host: string | undefined): boolean {
  if (config.allowedHosts === 'all') return true;
  // Not frozen on purpose: with a frozen list the library caches every allowed Host it sees, and
  // IP:port values alone are unbounded.
  return isHostAllowed(host, config.allowedHosts);
}

/** The 403 message for a refused Host, naming the setting that allows it. */
export function hostRefusal(host: string | undefined): string {
  const name = (host ?? '').replace(/:\d+$/, '');
  return (
    `Host ${JSON.stringify(name)} is not a name this server answers to; ` +
    'if it should, add it to ALLOWED_HOSTS (comma-separated, a leading dot allows subdomains).'
  );
}

/** Refuses any HTTP request (API, SSE, metrics, UI) whose Host is not allowed: 403 host_not_allowed. */
export function hostCheck(config: Pick<Config, 'allowedHosts'>): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (!hostAllowed(config, host)) return errorJson(c, 403, 'host_not_allowed', hostRefusal(host));
    await next();
  };
}
