import {
  EventLineParser,
  type ExtractedEvent,
  type FrameDraft,
  type RejectedLine,
  type RunStatus,
  type TokenUsage,
} from '@app/shared';
import type { FrameWriter, PatchSource, RunPatch } from '../db/frame-writer.js';
import { cutOffLinesOf, FrameCodec, isInterruption } from './frame-codec.js';
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
  status: RunStatus;
  text: string;
  eventCount: number;
  rejectedCount: number;
  pieces: number;
  /** Wall time of finished attempts; the current attempt adds `now - attemptStartedAt`. */
  durationMs: number;
  attemptStartedAt = 0;
  usage: TokenUsage | null;
  errorCode: string | null;
  errorMessage: string | null = null;
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

  constructor(
    init: RunInit,
    private readonly writer: FrameWriter,
  ) {
    this.id = init.id;
    this.userId = init.userId;
    this.model = init.model;
    this.status = init.status;
    this.behaviourIds = init.behaviourIds;
    this.truncated = init.truncated;
    this.frames = init.frames ?? [];
    this.text = init.text ?? '';
    this.eventCount = init.eventCount ?? 0;
    this.rejectedCount = init.rejectedCount ?? 0;
    this.pieces = init.pieces ?? 0;
    this.durationMs = init.durationMs ?? 0;
    this.usage = init.usage ?? null;
    this.errorCode = init.errorCode ?? null;
    this.storedSeq = init.storedSeq ?? 0;
    // Frames given at construction were read from storage.
    this.committedSeq = this.frames.length;
    this.codec = new FrameCodec(this.id);
    this.parser = this.parserFromLog();
  }

  /**
   * The parser as it stood after the stored log: its text replayed, and lines the log settled as cut off
   * kept cut off (a fragment ended by a cancel must not pass as a line, nor shadow the real one).
   */
  private parserFromLog(): EventLineParser {
    const ctx = { runId: this.id, userId: this.userId, behaviourIds: new Set(this.behaviourIds) };
    const cutOffLines = this.frames.length > 0 ? cutOffLinesOf(this.frames) : undefined;
    return EventLineParser.fromText(ctx, this.text, { cutOffLines }).parser;
  }

  get lastSeq(): number {
    return this.frames.length;
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
   * Called by the writer once every frame so far is committed: watchers may now have them. All frames
   * of a turn (a piece, the lines it completes, a terminal frame) reach each watcher in one write.
   */
  committed(): void {
    if (this.committedSeq === this.frames.length) return;
    this.committedSeq = this.frames.length;
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

  recordEvent(e: ExtractedEvent): void {
    this.eventCount++;
    this.writer.event(e);
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
      errorCode: this.errorCode,
      errorMessage: this.errorMessage,
      finished: this.status !== 'running',
      text: this.status !== 'running' ? this.text : null,
    };
  }
}
