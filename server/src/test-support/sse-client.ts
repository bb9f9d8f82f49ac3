import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { RunFrame } from '@app/shared';
import { deadline } from './test-server.js';

export interface SseFrame {
  id: string | undefined;
  frame: RunFrame;
  /** performance.now() when it arrived. */
  at: number;
}

export interface SseRead {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Raw body text, to check encoding (no \u escapes) and comments. */
  raw: string;
}

/**
 * Reads an SSE response with a real parser (eventsource-parser) until it ends, `stopAfter` frames, or
 * the deadline. Bytes are decoded with a streaming decoder so split characters survive.
 */
export async function readSse(
  url: string,
  init: RequestInit & { stopAfter?: number; timeoutMs?: number } = {},
): Promise<SseRead> {
  const ac = new AbortController();
  const res = await fetch(url, { ...init, signal: ac.signal });
  const frames: SseFrame[] = [];
  let raw = '';
  if (res.status !== 200 || !res.body) {
    return { status: res.status, headers: res.headers, frames, raw: await res.text() };
  }
  const parser = createParser({
    onEvent: (m: EventSourceMessage) => {
      frames.push({ id: m.id, frame: JSON.parse(m.data) as RunFrame, at: performance.now() });
    },
  });
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  const pump = async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      raw += text;
      parser.feed(text);
      if (init.stopAfter !== undefined && frames.length >= init.stopAfter) {
        ac.abort();
        break;
      }
    }
  };
  await deadline(pump(), init.timeoutMs ?? 15_000, `SSE ${url}`).catch((err: unknown) => {
    ac.abort();
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  });
  return { status: res.status, headers: res.headers, frames, raw };
}
