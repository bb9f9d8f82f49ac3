import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunFrame } from '../frames.js';
import { deadline, startTestServer, type TestServer } from '../../../server/src/test-support/test-server.js';
import { cancelRunRest, resumeRunRest, startRunRest, watchRunSse } from './sse-watch.js';
import { getRun, oneToN, seqsOf, textOf } from './test-kit.js';
import { testEventSource } from './test-transports.js';
import { ClientError } from './types.js';

/** Watches over SSE until onEnd; `onFrame` may act on the frames as they come. */
const watchAll = (s: TestServer, runId: string, after: number, onFrame: (f: RunFrame) => void = () => {}) =>
  deadline(
    new Promise<RunFrame[]>((resolve) => {
      const got: RunFrame[] = [];
      watchRunSse({
        baseUrl: s.url,
        runId,
        after,
        EventSource: testEventSource(),
        onFrame: (f) => {
          got.push(f);
          onFrame(f);
        },
        onEnd: () => resolve(got),
      });
    }),
    10_000,
    `SSE watch of ${runId}`,
  );

describe('SSE fallback and REST helpers', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 150, BUILTIN_FIRST_PIECE_MS: 0 });
  });
  afterAll(() => s.dispose());

  it('starts over REST and watches a live run to its end', async () => {
    const { runId } = await startRunRest(s.url, 'user_0003');
    const frames = await watchAll(s, runId, 0);
    const stored = await getRun(s.url, runId);
    expect(seqsOf(frames)).toEqual(oneToN(stored.lastSeq));
    expect(textOf(frames)).toBe(stored.text);
    expect(await watchAll(s, runId, stored.lastSeq)).toEqual([]); // 204: nothing more
    expect(await watchAll(s, runId, stored.lastSeq - 2)).toEqual(frames.slice(-2));
  });

  it('cancel and resume over REST; watching again from the last seq completes the run', async () => {
    const { runId } = await startRunRest(s.url, 'user_0007');
    let cancelled = false;
    const first = await watchAll(s, runId, 0, (f) => {
      if (!cancelled && f.type === 'llm_chunk' && f.seq > 10) {
        cancelled = true;
        void cancelRunRest(s.url, runId);
      }
    });
    expect(first.at(-1)!.type).toBe('cancelled');
    const last = first.at(-1)!.seq;
    const { lastSeq } = await resumeRunRest(s.url, runId);
    expect(lastSeq).toBeGreaterThan(last);
    const rest = await watchAll(s, runId, last);
    const all = [...first, ...rest];
    const stored = await getRun(s.url, runId);
    expect(stored.status).toBe('done');
    expect(seqsOf(all)).toEqual(oneToN(stored.lastSeq));
    expect(textOf(all)).toBe(stored.text);
    // Replaying the whole log does not stop at the old cancelled frame.
    expect(await watchAll(s, runId, 0)).toEqual(all);
  });

  it('REST errors carry the server code', async () => {
    const err = await startRunRest(s.url, 'user_9999').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'user_not_found' });
    await expect(cancelRunRest(s.url, 'run_doesnotexist00')).rejects.toMatchObject({ code: 'run_not_found' });
  });
});
