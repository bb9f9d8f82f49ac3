import http from 'node:http';
import { deadline } from './test-server.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Error bodies are `{ error: { code } }`. */
export const codeOf = (r: { body: string }): string =>
  (JSON.parse(r.body) as { error: { code: string } }).error.code;

/**
 * One request over node:http, for what fetch cannot do: any Host header, a chosen local address
 * (127.0.0.2 is another client on loopback), no connection reuse.
 */
export function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {},
  ms = 5000,
): Promise<RawResponse> {
  return deadline(
    new Promise<RawResponse>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: opts.method ?? 'GET',
          headers: opts.headers,
          localAddress: opts.localAddress,
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    }),
    ms,
    `${opts.method ?? 'GET'} ${url}`,
  );
}

export interface StreamedUpload extends RawResponse {
  /** Bytes written when the answer arrived. */
  sentBeforeAnswer: number;
  total: number;
}

/**
 * POSTs `total` bytes as a chunked body, one `chunk` at a time and paced by the socket, until the
 * server answers; then stops sending. Tells how much had gone out by then, so a test can prove the
 * server answered without waiting for (or holding) the whole body.
 */
export function streamBody(
  url: string,
  opts: { total: number; chunk?: number; headers?: Record<string, string>; method?: string },
  ms = 10_000,
): Promise<StreamedUpload> {
  const piece = Buffer.alloc(opts.chunk ?? 64 * 1024, 'a');
  let sent = 0;
  let answered = false;
  return deadline(
    new Promise<StreamedUpload>((resolve, reject) => {
      const req = http.request(url, {
        method: opts.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        agent: false,
      });
      req.on('response', (res) => {
        answered = true;
        const sentBeforeAnswer = sent;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            sentBeforeAnswer,
            total: opts.total,
          });
          req.destroy();
        });
        res.on('error', reject);
      });
      // Once answered, the server may cut the connection while bytes are still going out.
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      const pump = async (): Promise<void> => {
        while (sent < opts.total && !answered && !req.destroyed) {
          const more = req.write(piece);
          sent += piece.length;
          // Gives the response event its turn even while the socket keeps accepting bytes.
          await new Promise<void>((r) => {
            if (more) return void setImmediate(r);
            const go = () => {
              req.off('drain', go).off('close', go);
              r();
            };
            req.on('drain', go).on('close', go);
          });
        }
        if (!answered && !req.destroyed) req.end();
      };
      void pump();
    }),
    ms,
    `streamed ${opts.method ?? 'POST'} ${url}`,
  );
}
