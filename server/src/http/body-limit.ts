import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorJson } from './respond.js';

/** Every JSON body the API takes is a few hundred bytes at most ({"userId","key"}, {"token"}). */
export const JSON_BODY_MAX_BYTES = 16 * 1024;

/**
 * Refuses a body over `maxBytes` with 413 payload_too_large: from Content-Length before reading, or
 * while reading a chunked body, so an oversized one is never held whole. (Once answered, the adapter
 * drains at most a little more and then closes the connection.)
 */
export function limitBody(maxBytes: number, setting?: string): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      errorJson(
        c,
        413,
        'payload_too_large',
        `The request body is over ${maxBytes} bytes${setting ? ` (${setting})` : ''}.`,
      ),
  });
}
