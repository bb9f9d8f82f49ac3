import {
  type ErrorCode,
  EventLineParser,
  isRetryable,
  type ExtractedEvent,
  type FrameDraft,
  type RejectedLine,
  type RunStatus,
  type TokenUsage,
} from '@app/shared';
import type { LogWriter, PatchSource, RunPatch } from '../store/types.js';
import { EventMerger, type Merged } from './event-merger.js';
import { cutOffLinesOf, FrameCodec, isInterruption, readLog } from './frame-codec.js';
import type { FrameSource, Subscription } from './subscription.js';

export interface RunInit {
  id: string;
  userId: string;
  model: string;
  status: RunStatus;
  /** Behaviours of the prompt, in prompt order: grounding and progress are measured against them. */
  behaviourIds: string[];
  truncated: { included: number; total: number } | null;
  /** Stored frames when the run is loaded back from the database. */
  frames?: string[];
  text?: string;
  eventCount?: number;
  rejectedCount?: number;
  pieces?: number;
  durationMs?: number;
  usage?: TokenUsage | null;
  errorCode?: string | null;
  /** Frames up to this seq are already in the run's stored log. */
  storedSeq?: number;
  /** Behaviours per chunk for a new run whose history takes several upstream calls. */
  chunkSizes?: number[] | null;
  /** 2 when each chunk is reviewed in a second pass. */
  passes?: number;
}

/**
 * A run as held in memory while it runs, while watchers catch up, and for a while after it settles: its
 * frame log (each frame encoded once and shared by every watcher), its text, its parser and its watchers.
 * The FrameWriter commits its new frames once per event-loop turn; only then do watchers get them, so a
 * client never holds a frame that a crash could take back.
 */
export class Run implements FrameSource, PatchSource {
  readonly id: string;
  readonly userId: string;
  readonly model: string;
  readonly behaviourIds: string[];
  readonly truncated: { included: number; total: number } | null;
  /** Changed only by this class: {@link settle}, {@link interrupt}, {@link restart}. */
  private state: RunStatus;
  text: string;
  eventCount: number;
  rejectedCount: number;
  pieces: number;
  /** Wall time of finished attempts; the current attempt adds `now - attemptStartedAt`. */
  durationMs: number;
  attemptStartedAt = 0;
  usage: TokenUsage | null;
  private error: { code: string | null; message: string | null };
  parser: EventLineParser;
  /** Set while an upstream request is in flight; aborting it is how a run is cancelled. */
  controller: AbortController | null = null;
  readonly watchers = new Set<Subscription>();
  /** Last time a watcher was attached or present; for the unwatched-run policy. */
  lastWatchedAt = Date.now();
  storedSeq: number;
  /** Frames up to this seq are committed to storage: the part of the log watchers may read. */
  committedSeq: number;
  private readonly frames: string[];
  private readonly codec: FrameCodec;
  private commitWaiters: (() => void)[] = [];
  /** Behaviours per chunk when the history takes several calls (null: one call covers it). */
  readonly chunkSizes: number[] | null;
  /** 2 when each chunk is reviewed in a second pass (chunks N+1…2N review chunks 1…N). */
  readonly passes: number;
  /** Merges events across chunks; only chunked runs merge. */
  readonly merger: EventMerger | null;
  /** The chunk whose output the text is now, and where its text begins (chunked runs). */
  currentChunk: { index: number; textAt: number } | null = null;
  /** Events merged into later ones. */
  merged = 0;
  /** Why the last attempt was cancelled, while the run stays cancelled. */
  private cancelledBy: string | null = null;

  constructor(
    init: RunInit,
    private readonly writer: LogWriter,
  ) {
    this.id = init.id;
    this.userId = init.userId;
    this.model = init.model;
    this.state = init.status;
    this.behaviourIds = init.behaviourIds;
    this.truncated = init.truncated;
    this.frames = init.frames ?? [];
    this.text = init.text ?? '';
    this.eventCount = init.eventCount ?? 0;
    this.rejectedCount = init.rejectedCount ?? 0;
    this.pieces = init.pieces ?? 0;
    this.durationMs = init.durationMs ?? 0;
    this.usage = init.usage ?? null;
    this.error = { code: init.errorCode ?? null, message: null };
    this.storedSeq = init.storedSeq ?? 0;
    // Frames given at construction were read from storage.
    this.committedSeq = this.frames.length;
    this.codec = new FrameCodec(this.id);
    // Only a chunked run's log is read whole: its chunks and merges are part of its state.
    const log = this.frames[0]?.includes('"chunks":[') ? readLog(this.frames) : null;
    this.chunkSizes = init.chunkSizes ?? log?.chunkSizes ?? null;
    this.passes = init.passes ?? log?.passes ?? 1;
    this.merger = this.chunkSizes ? new EventMerger(this.behaviourIds, this.chunkSizes) : null;
    if (log) {
      for (const f of log.eventFrames) this.merger!.restore(f.event, f.replaces, f.chunk);
      this.merged = log.merged;
      this.currentChunk = log.chunkStarts.at(-1) ?? null;
    }
    this.parser = this.parserFromLog(log?.cutOffLines);
  }

  /**
   * The parser as it stood after the stored log: its text replayed, and lines the log settled as cut off
   * kept cut off (a fragment ended by a cancel must not pass as a line, nor shadow the real one).
   */
  private parserFromLog(known?: Set<number>): EventLineParser {
    const ctx = { runId: this.id, userId: this.userId, behaviourIds: new Set(this.behaviourIds) };
    const cutOffLines = known ?? (this.frames.length > 0 ? cutOffLinesOf(this.frames) : undefined);
    return EventLineParser.fromText(ctx, this.text, { cutOffLines }).parser;
  }

  get lastSeq(): number {
    return this.frames.length;
  }

  get status(): RunStatus {
    return this.state;
  }

  get errorCode(): string | null {
    return this.error.code;
  }

  get cancelReason(): string | null {
    return this.cancelledBy;
  }

  /** Counts every terminal frame carries. */
  private counts() {
    return {
      events: this.eventCount,
      rejected: this.rejectedCount,
      pieces: this.pieces,
      usage: this.usage,
      durationMs: this.durationMs,
      ...(this.chunkSizes ? { chunks: this.chunkSizes.length * this.passes, merged: this.merged } : {}),
      ...(this.passes > 1 ? { passes: this.passes } : {}),
    };
  }

  /** Ends the attempt: the status and the one terminal frame that says so. */
  settle(
    end:
      | { kind: 'done' }
      | { kind: 'cancelled'; reason: 'client' | 'unwatched' | 'shutdown' }
      | { kind: 'error'; code: ErrorCode; message: string },
  ): void {
    this.durationMs = this.elapsedMs();
    this.cancelledBy = null;
    if (end.kind === 'done') {
      this.state = 'done';
      this.emit({ type: 'done', message: '抽象完成', ...this.counts() });
    } else if (end.kind === 'cancelled') {
      this.state = 'cancelled';
      this.cancelledBy = end.reason;
      const why = { client: '已取消', unwatched: '无人观看，已自动取消', shutdown: '服务器关闭，已取消' }[
        end.reason
      ];
      this.emit({ type: 'cancelled', message: why, reason: end.reason, ...this.counts() });
    } else {
      this.state = 'error';
      this.error = { code: end.code, message: end.message };
      this.emit({
        type: 'error',
        code: end.code,
        message: end.message,
        retryable: isRetryable(end.code),
        ...this.counts(),
      });
    }
    this.persist();
  }

  /**
   * The process generating it stopped without settling it. `frame`: a restart of this process says so in
   * the log (a final `interrupted` error); a takeover by another instance does not (the run goes on).
   */
  interrupt(frame: boolean): void {
    this.state = 'interrupted';
    if (!frame) return;
    this.emit({
      type: 'error',
      code: 'interrupted',
      message: '服务重启，运行被中断；可继续生成',
      retryable: true,
      ...this.counts(),
    });
    this.persist();
  }

  /** Generating again (a resume): the last attempt's error is gone. */
  restart(): void {
    this.state = 'running';
    this.error = { code: null, message: null };
  }

  /** No frame will come unless the run is resumed, and every frame is committed. */
  get settled(): boolean {
    return this.status !== 'running' && this.committedSeq === this.frames.length;
  }

  frameAt(seq: number): string | undefined {
    return this.frames[seq - 1];
  }

  /** How many times a restart found this run interrupted (its log keeps an `interrupted` frame for each). */
  interruptions(): number {
    let n = 0;
    for (const json of this.frames) if (isInterruption(json)) n++;
    return n;
  }

  percent(): number {
    return this.parser.percent(this.behaviourIds.length);
  }

  elapsedMs(): number {
    return (
      this.durationMs +
      (this.status === 'running' ? Math.round(performance.now() - this.attemptStartedAt) : 0)
    );
  }

  /** Appends a frame: assigns its seq, encodes it once, queues it for the next commit. */
  emit(draft: FrameDraft): number {
    return this.append(this.codec.encode(this.frames.length + 1, draft));
  }

  chunk(content: string): void {
    this.text += content;
    this.pieces++;
    this.append(this.codec.chunk(this.frames.length + 1, content));
  }

  private append(json: string): number {
    this.frames.push(json);
    this.writer.frame(this, json);
    return this.frames.length;
  }

  /**
   * Called by the writer once frames up to `seq` are committed: watchers may now have them. All frames
   * of a turn (a piece, the lines it completes, a terminal frame) reach each watcher in one write.
   */
  committed(seq: number): void {
    if (seq <= this.committedSeq) return;
    this.committedSeq = Math.min(seq, this.frames.length);
    const waiters = this.commitWaiters;
    this.commitWaiters = [];
    // Waiters first: an ack they send precedes the frames the pumps below send.
    for (const fn of waiters) fn();
    for (const w of this.watchers) w.pump();
  }

  /**
   * Calls `fn` once every frame emitted so far is committed (at once when it is): a client is told of a
   * run only once a crash can no longer take the run back.
   */
  whenCommitted(fn: () => void): void {
    if (this.committedSeq === this.frames.length) fn();
    else this.commitWaiters.push(fn);
  }

  /** {@link whenCommitted} as a promise. */
  durable(): Promise<void> {
    return new Promise((ok) => this.whenCommitted(ok));
  }

  /** Records a parsed event; in a chunked run it may merge earlier chunks' events into it. */
  recordEvent(e: ExtractedEvent): Merged {
    const m = this.merger?.add(e, this.currentChunk?.index ?? 1) ?? { event: e, replaces: [] };
    this.eventCount += 1 - m.replaces.length;
    this.merged += m.replaces.length;
    if (m.replaces.length > 0) this.writer.dropEvents(this.id, m.replaces);
    this.writer.event(m.event);
    return m;
  }

  /** Events as they stand now (merged ones replaced), in line order. */
  liveEvents(): ExtractedEvent[] {
    return this.merger?.events ?? [];
  }

  /** The output of chunk `index` (1-based; with two passes N+i reviews chunk i) begins here. */
  beginChunk(index: number): void {
    const n = this.chunkSizes!.length;
    const total = n * this.passes;
    const pass = index > n ? 2 : 1;
    const of = ((index - 1) % n) + 1;
    this.currentChunk = { index, textAt: this.text.length };
    this.emit({
      type: 'progress',
      stage: 'chunk',
      message: pass === 1 ? `正在分析第 ${of}/${n} 段行为记录…` : `第二遍：正在复查第 ${of}/${n} 段的事件…`,
      percent: this.percent(),
      chunk: {
        index,
        total,
        behaviours: this.chunkSizes![of - 1]!,
        ...(this.passes > 1 ? { pass } : {}),
      },
    });
  }

  recordRejected(l: RejectedLine): void {
    this.rejectedCount++;
    this.writer.rejectedLine(this.id, l);
  }

  /** Marks the counters as changed; the writer reads `snapshot()` when it writes the batch. */
  persist(): void {
    this.writer.touch(this);
  }

  snapshot(): RunPatch {
    return {
      lastSeq: this.lastSeq,
      eventCount: this.eventCount,
      rejectedCount: this.rejectedCount,
      pieces: this.pieces,
      durationMs: this.elapsedMs(),
      status: this.status,
      usage: this.usage,
      errorCode: this.error.code,
      errorMessage: this.error.message,
      finished: this.status !== 'running',
      text: this.status !== 'running' ? this.text : null,
      resumeOnStart: this.status === 'cancelled' && this.cancelReason === 'shutdown',
    };
  }
}
