import { Worker } from 'node:worker_threads';
import type { ImportFormat } from './import-parser.js';
import { parseToSlices, unpackSlices, type ImportSlices, type PackedSlices } from './import-slices.js';

/**
 * Shorter bodies (characters of a string, bytes of UTF-8) are parsed in place: at most ~2,000 rows, some
 * 20 ms of work, against about half a second for a worker to load the parser.
 */
const IN_PLACE_SIZE = 256 * 1024;

/**
 * {@link parseToSlices} of a body, on a worker thread when it is large: decoding, parsing and validating
 * 50,000 rows takes the better part of a second, which on the main thread would stall every stream.
 * UTF-8 bytes are moved to the worker, not copied (the array is detached); a large string is encoded
 * first, which costs this thread ~5 ms per MB (the CLI's case, not the server's).
 */
export function parseOffThread(
  body: string | Uint8Array,
  format: ImportFormat,
  keepErrors: number,
): Promise<ImportSlices> {
  if (body.length < IN_PLACE_SIZE) {
    const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
    return Promise.resolve(parseToSlices(text, format, keepErrors));
  }
  let bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  // Only a whole ArrayBuffer can be moved; a view into a larger (pooled) one is copied out first.
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = new Uint8Array(bytes);
  const worker = new Worker(new URL('./import-parse-worker.mjs', import.meta.url), {
    workerData: { bytes, format, keepErrors },
    transferList: [bytes.buffer as ArrayBuffer],
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (packed: PackedSlices) => resolve(unpackSlices(packed)));
    worker.once('error', reject);
    // After the message this changes nothing; before it, the worker died without an error event.
    worker.once('exit', (code) =>
      reject(new Error(`the import parser exited (code ${code}) before finishing`)),
    );
  });
}
