import type OpenAI from 'openai';
import type { ErrorCode } from '@app/shared';
import type { Config } from '../config.js';
import { readChatStream } from '../upstream/chat-stream.js';
import { classifyUpstreamError, retryDelayMs } from '../upstream/classify-error.js';

/** Why an attempt's AbortSignal fired. */
/**
 * `handoff`: the run goes on at another instance (this one stops, or lost its lease). `bus`: Redis lost
 * the shared state (a restart without persistence), so the run ends with a retryable error.
 */
export type AbortReason = 'client' | 'unwatched' | 'shutdown' | 'stall' | 'handoff' | 'bus';

export type Outcome =
  | { kind: 'done' }
  | { kind: 'aborted'; reason: Exclude<AbortReason, 'stall'> }
  | { kind: 'failed'; code: ErrorCode; message: string };

export type ChatMessages = { role: 'system' | 'user' | 'assistant'; content: string }[];

/** What one upstream call reports while it streams. */
export interface CallEvents {
  content(text: string): void;
  usage(prompt: number, completion: number): void;
  /** A retry is planned (429/5xx before the first piece). */
  retry(attempt: number, delayMs: number, code: ErrorCode, reason: string): void;
}

/**
 * One upstream call: retries before the first piece, a stall timer, and the outcome told by the signal
 * (the SDK ends an aborted stream without throwing). `signal` stops it; a stall aborts `controller`.
 */
export async function callModel(
  deps: { llm: OpenAI; config: Config; model: string },
  messages: ChatMessages,
  controller: AbortController,
  on: CallEvents,
): Promise<Outcome> {
  const { config, llm } = deps;
  const signal = controller.signal;
  let stallTimer: NodeJS.Timeout | undefined;
  let armedMs = -1;
  const armStall = (ms: number) => {
    // Re-arming the same timeout per piece: refresh() moves it without a new timer.
    if (ms === armedMs && stallTimer) return void stallTimer.refresh();
    clearTimeout(stallTimer);
    armedMs = ms;
    stallTimer = ms > 0 ? setTimeout(() => controller.abort('stall' satisfies AbortReason), ms) : undefined;
  };
  const aborted = (): Outcome | null => {
    if (!signal.aborted) return null;
    const reason = signal.reason as AbortReason;
    if (reason === 'stall') {
      return {
        kind: 'failed',
        code: 'upstream_stalled',
        message: `No output from the model for ${config.UPSTREAM_STALL_MS} ms.`,
      };
    }
    return { kind: 'aborted', reason };
  };
  let receivedAny = false;
  try {
    for (let attempt = 0; ; attempt++) {
      armStall(config.UPSTREAM_CONNECT_TIMEOUT_MS);
      try {
        // The SDK builds the request and turns error statuses into its errors; the body is read lean.
        const response = await llm.chat.completions
          .create(
            { model: deps.model, messages, stream: true, stream_options: { include_usage: true } },
            { signal, maxRetries: 0, timeout: config.UPSTREAM_CONNECT_TIMEOUT_MS || undefined },
          )
          .asResponse();
        armStall(config.UPSTREAM_STALL_MS);
        await readChatStream(response, (chunk) => {
          armStall(config.UPSTREAM_STALL_MS);
          const content = chunk.choices[0]?.delta?.content;
          if (content) {
            receivedAny = true;
            on.content(content);
          }
          if (chunk.usage) on.usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens);
        });
        // Ended early by an abort (cancel, stall): the signal says which it was.
        return aborted() ?? { kind: 'done' };
      } catch (err) {
        const stopped = aborted();
        if (stopped) return stopped;
        const f = classifyUpstreamError(err, receivedAny);
        if (!f.retryable || receivedAny || attempt >= config.UPSTREAM_MAX_RETRIES) {
          return { kind: 'failed', code: f.code, message: f.message };
        }
        clearTimeout(stallTimer);
        stallTimer = undefined;
        const delayMs = retryDelayMs(
          attempt,
          f.retryAfterMs,
          config.UPSTREAM_RETRY_BASE_MS,
          config.UPSTREAM_RETRY_MAX_MS,
        );
        on.retry(attempt + 1, delayMs, f.code, f.message);
        await sleep(delayMs, signal);
        const stoppedWaiting = aborted();
        if (stoppedWaiting) return stoppedWaiting;
      }
    }
  } finally {
    clearTimeout(stallTimer);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
