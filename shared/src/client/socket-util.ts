import type { WebSocketLike } from './types.js';

export const OPEN = 1;

/** The message of an Error or an error-like event (`ws` ErrorEvent), if any. */
export const errorText = (e: unknown): string | undefined => {
  const m = (e as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : undefined;
};

/** A text message's payload as a string, whatever form the platform delivers it in. */
export const decode = (data: unknown): string =>
  typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer | ArrayBufferView);

/**
 * Detaches a socket and closes it: cleanly when `graceful`, else as fast as the platform allows
 * (`ws` has terminate(); a browser socket only close()). Its later events are ignored.
 */
export function abandonSocket(ws: WebSocketLike | null, graceful: boolean): void {
  if (!ws) return;
  ws.onopen = ws.onmessage = ws.onclose = null;
  ws.onerror = () => {}; // `ws` throws on an 'error' nobody listens to
  const terminate = (ws as { terminate?: () => void }).terminate;
  try {
    if (!graceful && typeof terminate === 'function') terminate.call(ws);
    else ws.close(graceful ? 1000 : 4000, graceful ? 'client closed' : 'connection replaced');
  } catch {
    // Closing a socket that never opened may throw in some implementations; it is gone either way.
  }
}
