import type OpenAI from 'openai';
import type { ParsedLine } from '@app/shared';
import type { Config } from '../config.js';
// Same estimate the built-in model reports, so estimated and reported usage are comparable.
import { estimateTokens } from '../model/text-pieces.js';
import { callModel, type ChatMessages, type Outcome } from './call-model.js';
import type { Run } from './run.js';

export type { AbortReason } from './call-model.js';

/** One upstream call of an attempt. */
export interface Call {
  /** Chat messages (carrying the lines already produced when resuming), or built when the call starts. */
  messages: ChatMessages | (() => ChatMessages);
  /** In a chunked run: the chunk (1-based) this call extracts. */
  chunk?: number;
  /** Index (in the attempt's calls) of a call that must be done before this one starts. */
  after?: number;
}

export interface ExecuteDeps {
  llm: OpenAI;
  config: Config;
  /** The calls of this attempt, in output order: one, or the chunks still to do. */
  calls: Call[];
  log: { warn(obj: object, msg: string): void };
}

/** What one call has done so far; its pieces wait here until the calls before it are done. */
interface CallState {
  /** The messages sent, once the call started. */
  messages: ChatMessages;
  buffer: string[];
  text: string;
  usageReported: boolean;
  started: boolean;
  outcome: Outcome | null;
}

/**
 * Drives one attempt of a run against the model: its calls (several, a few at once, for a chunked run)
 * stream into the run's log in call order, lines are parsed as they complete, and the run ends with
 * exactly one terminal frame. Cancel aborts every call in flight through the attempt's one signal.
 */
export async function executeRun(run: Run, deps: ExecuteDeps): Promise<void> {
  const controller = new AbortController();
  run.controller = controller;
  run.attemptStartedAt = performance.now();
  const states: CallState[] = deps.calls.map(() => ({
    messages: [],
    buffer: [],
    text: '',
    usageReported: false,
    started: false,
    outcome: null,
  }));
  let outcome: Outcome;
  try {
    outcome = await runCalls(run, deps, controller, states);
  } catch (err) {
    outcome = { kind: 'failed', code: 'internal', message: err instanceof Error ? err.message : String(err) };
    deps.log.warn({ err, runId: run.id }, 'run failed unexpectedly');
  } finally {
    run.controller = null;
  }
  if (outcome.kind === 'aborted' && outcome.reason === 'bus') {
    outcome = {
      kind: 'failed',
      code: 'bus_unavailable',
      message: 'Redis lost the shared state of running runs (it restarted); resume the run to continue.',
    };
  }
  if (outcome.kind === 'aborted' && outcome.reason === 'handoff') {
    // No terminal frame: the instance that takes the run over continues this log.
    run.persist();
    return;
  }
  // Everything emitted in this turn (the last lines, the terminal frame) is committed and sent together.
  // Cancelled or failed mid-line: the half line is rejected as cut off, and regenerated on resume.
  if (outcome.kind !== 'done') handle(run, run.parser.end({ cutOff: true }));
  else handle(run, run.parser.end());
  for (const s of states) {
    if (!s.started || s.usageReported) continue;
    const prompt = s.messages.map((m) => m.content).join('\n');
    addUsage(run, estimateTokens(prompt), estimateTokens(s.text), true);
  }
  if (outcome.kind === 'done') run.settle({ kind: 'done' });
  else if (outcome.kind === 'aborted') {
    // A handed-over run returned above; a bus failure became an error.
    run.settle({ kind: 'cancelled', reason: outcome.reason as 'client' | 'unwatched' | 'shutdown' });
  } else run.settle({ kind: 'error', code: outcome.code, message: outcome.message });
}

/**
 * Runs the calls, at most CHUNK_CONCURRENCY at once, emitting each call's output only when every call
 * before it is done, so the log reads in chunk order. The first call that does not end `done` ends the
 * attempt: a cancel aborts them all; a failure aborts the others and names its chunk.
 */
function runCalls(
  run: Run,
  deps: ExecuteDeps,
  controller: AbortController,
  states: CallState[],
): Promise<Outcome> {
  const { calls, config } = deps;
  const concurrency = Math.max(1, calls.length > 1 ? config.CHUNK_CONCURRENCY : 1);
  const children: AbortController[] = [];
  let current = 0;
  let next = 0;
  let generating = false;
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      for (const c of children) c.abort(controller.signal.reason ?? 'client');
      resolve(o);
    };
    const emitPiece = (content: string) => {
      if (!generating) {
        generating = true;
        run.emit({ type: 'progress', stage: 'generating', message: '模型开始输出…', percent: run.percent() });
      }
      run.chunk(content);
      handle(run, run.parser.push(content));
    };
    /** Call `i` is now the one whose output goes to the log. */
    const enter = (i: number) => {
      const chunk = calls[i]!.chunk;
      if (chunk !== undefined && run.currentChunk?.index !== chunk) {
        // The previous chunk's last line ends here, not in the next chunk's first.
        if (run.text.length > 0 && !run.text.endsWith('\n')) emitPiece('\n');
        run.beginChunk(chunk);
      }
      const s = states[i]!;
      for (const piece of s.buffer.splice(0)) emitPiece(piece);
    };
    const advance = () => {
      while (!settled && states[current]?.outcome?.kind === 'done') {
        current++;
        if (current === calls.length) return finish({ kind: 'done' });
        enter(current);
      }
    };
    const launch = () => {
      while (
        !settled &&
        next < calls.length &&
        next - current < concurrency &&
        (calls[next]!.after ?? -1) < current
      ) {
        const i = next++;
        const s = states[i]!;
        const child = new AbortController();
        children.push(child);
        s.started = true;
        const m = calls[i]!.messages;
        s.messages = typeof m === 'function' ? m() : m;
        void callModel({ llm: deps.llm, config, model: run.model }, s.messages, child, {
          content: (text) => {
            if (settled) return;
            s.text += text;
            if (i === current) emitPiece(text);
            else s.buffer.push(text);
          },
          usage: (prompt, completion) => {
            s.usageReported = true;
            addUsage(run, prompt, completion, false);
          },
          retry: (attempt, delayMs, code, reason) =>
            run.emit({
              type: 'progress',
              stage: 'retry',
              message: `${chunkLabel(run, calls[i]!)}模型暂时不可用（${code}），${(delayMs / 1000).toFixed(1)} 秒后第 ${attempt} 次重试…`,
              percent: run.percent(),
              retry: { attempt, delayMs, reason },
            }),
        }).then((o) => {
          s.outcome = o;
          if (settled) return;
          if (o.kind === 'aborted') return finish(o);
          if (o.kind === 'failed')
            return finish({ ...o, message: `${chunkLabel(run, calls[i]!)}${o.message}` });
          advance();
          launch();
        });
      }
    };
    // The run's signal (cancel, unwatched, shutdown) stops every call; a stall stops only its own.
    const stopAll = () => {
      for (const c of children) c.abort(controller.signal.reason);
    };
    if (controller.signal.aborted) return finish({ kind: 'aborted', reason: controller.signal.reason });
    controller.signal.addEventListener('abort', stopAll, { once: true });
    enter(0);
    launch();
  });
}

/** `第 3/7 段：` in a chunked run, so a failure names its chunk; nothing otherwise. */
function chunkLabel(run: Run, call: Call): string {
  return call.chunk !== undefined && run.chunkSizes ? `第 ${call.chunk}/${run.chunkSizes.length} 段：` : '';
}

/** Turns parsed lines into frames and stored rows. */
export function handle(run: Run, results: ParsedLine[]): void {
  for (const r of results) {
    if (r.kind === 'event') {
      const { event, replaces } = run.recordEvent(r.event);
      const percent = run.percent();
      run.emit({ type: 'event', event, percent, ...(replaces.length > 0 ? { replaces } : {}) });
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
