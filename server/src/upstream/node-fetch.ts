import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/** Node bodies of the responses this fetch made, for readers that skip the web-stream layer. */
const nodeBodies = new WeakMap<Response, IncomingMessage>();

/**
 * Claims the Node stream behind a response of `createNodeFetch` (null for any other response, or when
 * its web body is already in use). Once claimed the web body must not be read.
 */
export function claimNodeBody(response: Response): IncomingMessage | null {
  const res = nodeBodies.get(response);
  if (!res) return null;
  nodeBodies.delete(response);
  return res;
}

const abortError = (signal: AbortSignal): unknown =>
  signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');

/**
 * A `fetch` for the `openai` SDK on node:http with keep-alive sockets. The SDK keeps building requests,
 * checking statuses and reading error bodies through the standard Response; the streaming hot path can
 * instead claim the Node stream (`claimNodeBody`) and skip undici's and web streams' per-chunk layers.
 * Aborting `init.signal`, before or after the headers, destroys the socket, so the model sees the
 * request stop.
 */
export function createNodeFetch(): typeof fetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  const send = (url: URL, req: OutgoingRequest, redirectsLeft: number): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return reject(new TypeError(`fetch: unsupported protocol ${url.protocol}`));
      }
      const { signal } = req;
      if (signal?.aborted) return reject(abortError(signal));
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: req.method,
        headers: req.headers,
        agent: agents[url.protocol],
      });
      const onAbort = () => request.destroy(abortError(signal!) as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      const release = () => signal?.removeEventListener('abort', onAbort);
      request.once('error', (err) => {
        release();
        // An abort rejects as the AbortError itself, as the standard fetch does (the SDK tells timeouts by it).
        reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
      });
      request.once('response', (res) => {
        res.once('close', release);
        // A drop before anyone reads must not crash the process; readers find it in `res.errored`.
        res.on('error', () => {});
        try {
          const next = redirectOf(url, req, res);
          if (next && req.redirect !== 'manual') {
            res.resume();
            release();
            if (req.redirect === 'error' || redirectsLeft === 0)
              throw new TypeError('fetch: redirect refused');
            return resolve(send(next.url, next.req, redirectsLeft - 1));
          }
          resolve(toResponse(res, req.method));
        } catch (err) {
          res.destroy();
          reject(err instanceof TypeError ? err : new TypeError('fetch failed', { cause: err }));
        }
      });
      request.end(req.body ?? undefined);
    });

  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const { body } = init;
    if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return Promise.reject(new TypeError('fetch: only string and byte bodies are supported'));
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const req = {
      method: (init.method ?? 'GET').toUpperCase(),
      headers,
      body,
      signal: init.signal,
      redirect: init.redirect,
    };
    return send(url, req, 20);
  };
}

interface OutgoingRequest {
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | null | undefined;
  signal: AbortSignal | null | undefined;
  redirect: RequestRedirect | undefined;
}

/** Where a redirect leads, and the request to send there (fetch's rules for method, body and auth). */
function redirectOf(
  from: URL,
  req: OutgoingRequest,
  res: IncomingMessage,
): { url: URL; req: OutgoingRequest } | null {
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if (![301, 302, 303, 307, 308].includes(status) || !location) return null;
  const url = new URL(location, from);
  const headers = { ...req.headers };
  let { method, body } = req;
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    body = undefined;
    delete headers['content-type'];
    delete headers['content-length'];
  }
  if (url.origin !== from.origin) delete headers.authorization;
  return { url, req: { ...req, method, body, headers } };
}

function toResponse(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 502;
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2)
    headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const noBody = status === 204 || status === 205 || status === 304 || method === 'HEAD';
  // Throws (caught by the caller) for statuses a Response cannot carry, such as 1xx or ≥ 600.
  const response: Response = new Response(
    noBody ? null : lazyWebBody(res, () => nodeBodies.delete(response)),
    { status, statusText: res.statusMessage, headers },
  );
  if (noBody) res.resume();
  else nodeBodies.set(response, res);
  return response;
}

/** Why a body can no longer be read in full (dropped before it was read), or null. */
export function brokenBody(res: IncomingMessage): Error | null {
  if (res.errored) return res.errored;
  return res.destroyed && !res.complete ? new Error('terminated') : null;
}

/** A web body that touches the Node stream only when first read (error bodies, other readers). */
function lazyWebBody(res: IncomingMessage, onFirstRead: () => void): ReadableStream<Uint8Array> {
  let attached = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (attached) return void res.resume();
        attached = true;
        onFirstRead();
        const broken = brokenBody(res);
        if (broken) return controller.error(broken);
        res.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        res.once('end', () => controller.close());
        res.once('error', (err) => controller.error(err));
      },
      cancel() {
        res.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
