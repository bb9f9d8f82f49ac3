import {
  EventLineParser,
  type ExtractedEvent,
  type FrameDraft,
  type RejectedLine,
  type RunStatus,
  type TokenUsage,
} from '@app/shared';
import type { FrameWriter, PatchSource, RunPatch } from '../db/frame-writer.js';
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
 * frame log (each frame encoded once and shared by every watcher), its text, its parser and its watchers. Storage is written behind it by
 * the FrameWriter, one batch per tick.
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
  private readonly frames: string[];
  private readonly prefix: string;
  private holding = false;

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
    this.prefix = `,"runId":${JSON.stringify(this.id)},"seq":`;
    this.parser = this.freshParser();
  }

  /** A parser primed with the text so far (used on resume so line numbers and duplicates carry on). */
  freshParser(): EventLineParser {
    const ctx = { runId: this.id, userId: this.userId, behaviourIds: new Set(this.behaviourIds) };
    return EventLineParser.fromText(ctx, this.text).parser;
  }

  get lastSeq(): number {
    return this.frames.length;
  }

  get settled(): boolean {
    return this.status !== 'running';
  }

  frameAt(seq: number): string | undefined {
    return this.frames[seq - 1];
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

  /** Appends a frame: assigns its seq, encodes it once, queues it for storage, wakes the watchers. */
  emit(draft: FrameDraft): number {
    const { type, ...rest } = draft;
    const body = JSON.stringify(rest);
    return this.append(type, body.length > 2 ? `,${body.slice(1)}` : '}');
  }

  /** `tail`: the frame's fields after `seq`, from the comma to the closing brace. */
  private append(type: string, tail: string): number {
    const seq = this.frames.length + 1;
    // Hand-built so `type`, `runId` and `seq` lead every frame without re-encoding the run id per piece.
    const json = `{"type":"${type}"${this.prefix}${seq}${tail}`;
    this.frames.push(json);
    this.writer.frame(this, json);
    if (!this.holding) for (const w of this.watchers) w.pump();
    return seq;
  }

  /**
   * Runs `fn` with delivery held: the frames it emits (a piece and the lines it completes) reach each
   * watcher together when it returns, in one socket write.
   */
  batch(fn: () => void): void {
    this.holding = true;
    try {
      fn();
    } finally {
      this.holding = false;
      for (const w of this.watchers) w.pump();
    }
  }

  chunk(content: string): void {
    this.text += content;
    this.pieces++;
    // The hottest frame skips the generic path's object copy and re-encode.
    this.append('llm_chunk', `,"content":${JSON.stringify(content)}}`);
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
