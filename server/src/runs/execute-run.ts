import type OpenAI from 'openai';
import type { ErrorCode, ParsedLine } from '@app/shared';
import { isRetryable } from '@app/shared';
import type { Config } from '../config.js';
import { readChatStream } from '../upstream/chat-stream.js';
import { classifyUpstreamError, retryDelayMs } from '../upstream/classify-error.js';
// Same estimate the built-in model reports, so estimated and reported usage are comparable.
import { estimateTokens } from '../model/text-pieces.js';
import type { Run } from './run.js';

/** Why an attempt's AbortSignal fired. */
export type AbortReason = 'client' | 'unwatched' | 'shutdown' | 'stall';

export interface ExecuteDeps {
  llm: OpenAI;
  config: Config;
  /** Chat messages for this attempt (carries lines already produced when resuming). */
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  log: { warn(obj: object, msg: string): void };
}

type Outcome =
  | { kind: 'done' }
  | { kind: 'aborted'; reason: Exclude<AbortReason, 'stall'> }
  | { kind: 'failed'; code: ErrorCode; message: string };

/**
 * Drives one attempt of a run against the model: retries before the first piece, streams pieces into
 * the run's log, parses lines as they complete, and ends the run with exactly one terminal frame.
 */
export async function executeRun(run: Run, deps: ExecuteDeps): Promise<void> {
  const controller = new AbortController();
  run.controller = controller;
  run.attemptStartedAt = performance.now();
  const promptText = deps.messages.map((m) => m.content).join('\n');
  const textBefore = run.text.length;
  const attempt = { usageReported: false };
  let outcome: Outcome;
  try {
    outcome = await stream(run, deps, controller, attempt);
  } catch (err) {
    outcome = { kind: 'failed', code: 'internal', message: err instanceof Error ? err.message : String(err) };
    deps.log.warn({ err, runId: run.id }, 'run failed unexpectedly');
  } finally {
    run.controller = null;
  }
  // Everything emitted in this turn (the last lines, the terminal frame) is committed and sent together.
  // Cancelled or failed mid-line: the half line is rejected as cut off, and regenerated on resume.
  if (outcome.kind !== 'done') handle(run, run.parser.end({ cutOff: true }));
  else handle(run, run.parser.end());
  if (!attempt.usageReported) addEstimatedUsage(run, promptText, run.text.slice(textBefore));
  run.durationMs = run.elapsedMs();
  const counts = () => ({
    events: run.eventCount,
    rejected: run.rejectedCount,
    pieces: run.pieces,
    usage: run.usage,
    durationMs: run.durationMs,
  });
  if (outcome.kind === 'done') {
    run.status = 'done';
    run.emit({ type: 'done', message: '抽象完成', ...counts() });
  } else if (outcome.kind === 'aborted') {
    run.status = 'cancelled';
    const why = { client: '已取消', unwatched: '无人观看，已自动取消', shutdown: '服务器关闭，已取消' }[
      outcome.reason
    ];
    run.emit({ type: 'cancelled', message: why, reason: outcome.reason, ...counts() });
  } else {
    run.status = 'error';
    run.errorCode = outcome.code;
    run.errorMessage = outcome.message;
    run.emit({
      type: 'error',
      code: outcome.code,
      message: outcome.message,
      retryable: isRetryable(outcome.code),
      ...counts(),
    });
  }
  run.persist();
}

async function stream(
  run: Run,
  deps: ExecuteDeps,
  controller: AbortController,
  state: { usageReported: boolean },
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
            {
              model: run.model,
              messages: deps.messages,
              stream: true,
              stream_options: { include_usage: true },
            },
            { signal, maxRetries: 0, timeout: config.UPSTREAM_CONNECT_TIMEOUT_MS || undefined },
          )
          .asResponse();
        armStall(config.UPSTREAM_STALL_MS);
        await readChatStream(response, (chunk) => {
          armStall(config.UPSTREAM_STALL_MS);
          const content = chunk.choices[0]?.delta?.content;
          if (content) {
            if (!receivedAny) {
              receivedAny = true;
              run.emit({
                type: 'progress',
                stage: 'generating',
                message: '模型开始输出…',
                percent: run.percent(),
              });
            }
            run.chunk(content);
            handle(run, run.parser.push(content));
          }
          if (chunk.usage) {
            state.usageReported = true;
            addUsage(run, chunk.usage.prompt_tokens, chunk.usage.completion_tokens, false);
          }
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
        run.emit({
          type: 'progress',
          stage: 'retry',
          message: `模型暂时不可用（${f.code}），${(delayMs / 1000).toFixed(1)} 秒后第 ${attempt + 1} 次重试…`,
          percent: run.percent(),
          retry: { attempt: attempt + 1, delayMs, reason: f.message },
        });
        await sleep(delayMs, signal);
        const stoppedWaiting = aborted();
        if (stoppedWaiting) return stoppedWaiting;
      }
    }
  } finally {
    clearTimeout(stallTimer);
  }
}

/** Turns parsed lines into frames and stored rows. */
export function handle(run: Run, results: ParsedLine[]): void {
  for (const r of results) {
    if (r.kind === 'event') {
      run.recordEvent(r.event);
      const percent = run.percent();
      run.emit({ type: 'event', event: r.event, percent });
      run.emit({
        type: 'progress',
        stage: 'generating',
        message: `已解析 ${run.eventCount} 个事件，覆盖 ${percent}% 的行为`,
        percent,
      });
    } else if (r.kind === 'rejected') {
      run.recordRejected(r.line);
      run.emit({
        type: 'progress',
        stage: 'line_rejected',
        message: `第 ${r.line.lineNo} 行未采用：${r.line.reason}`,
        percent: run.percent(),
        rejected: r.line,
      });
    }
  }
}

function addUsage(run: Run, prompt: number, completion: number, estimated: boolean): void {
  const u = run.usage;
  const promptTokens = (u?.promptTokens ?? 0) + prompt;
  const completionTokens = (u?.completionTokens ?? 0) + completion;
  run.usage = {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    estimated: estimated || (u?.estimated ?? false),
  };
}

/** Usage the upstream never reported (cancelled, failed): estimated, and flagged as such. */
function addEstimatedUsage(run: Run, prompt: string, completion: string): void {
  addUsage(run, estimateTokens(prompt), estimateTokens(completion), true);
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
