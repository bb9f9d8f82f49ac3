import WebSocket from 'ws';
import { StreamClient } from '@app/shared/client';
import { CliError } from './args.js';

/** Turns a socket failure into advice a person can act on. */
function explain(reason: string | undefined): string {
  if (!reason) return 'the connection failed';
  if (/ECONNREFUSED/.test(reason)) return 'nothing is listening there (is the server running?)';
  if (/ENOTFOUND|EAI_AGAIN/.test(reason)) return 'the host name does not resolve';
  if (/\b401\b/.test(reason)) return 'the server requires a token (--token or API_TOKEN)';
  if (/\b403\b/.test(reason)) return 'the server refused this origin';
  if (/\b404\b/.test(reason)) return 'there is no WebSocket endpoint at that path (expected /api/v1/ws)';
  return reason;
}

/**
 * A StreamClient on `ws` (Node 20 has no WebSocket), with the token as an Authorization header.
 * Resolves once connected; the first failed attempt rejects with a CliError instead of retrying forever.
 */
export async function connect(url: string, token: string | undefined): Promise<StreamClient> {
  const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
  class AuthWebSocket extends WebSocket {
    constructor(address: string) {
      super(address, { headers });
    }
  }
  const client = new StreamClient({ url, WebSocket: AuthWebSocket });
  await new Promise<void>((resolve, reject) => {
    const off = client.onState((e) => {
      if (e.newState === 'connected') {
        off();
        resolve();
      } else if (e.newState === 'reconnecting' || e.newState === 'offline') {
        off();
        client.close();
        reject(new CliError(`Cannot connect to ${url}: ${explain(e.reason)}.`));
      }
    });
  });
  return client;
}

/** Reports connection loss and recovery on stderr; gives up after `giveUpMs` without a connection. */
export function superviseConnection(
  client: StreamClient,
  giveUp: (err: CliError) => void,
  giveUpMs = 30_000,
): void {
  let timer: NodeJS.Timeout | null = null;
  client.onState((e) => {
    if (e.newState === 'reconnecting' && e.oldState === 'connected') {
      process.stderr.write(`\n… connection lost (${e.reason ?? 'closed'}), reconnecting\n`);
      timer ??= setTimeout(
        () =>
          giveUp(
            new CliError(
              `Lost the connection to the server and could not reconnect within ${giveUpMs / 1000} s.`,
            ),
          ),
        giveUpMs,
      );
    } else if (e.newState === 'connected' && timer) {
      clearTimeout(timer);
      timer = null;
      process.stderr.write('… reconnected\n');
    }
  });
}
