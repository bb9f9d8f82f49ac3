import type { ExtractedEvent, RejectedLine, TokenUsage } from '../domain.js';
import type { RunFrame } from '../frames.js';

/** Everything a UI or CLI shows about one run, folded from its frames. */
export interface RunView {
  runId: string;
  userId: string;
  model: string;
  status: 'starting' | 'streaming' | 'done' | 'cancelled' | 'error' | 'interrupted';
  /** Concatenated llm_chunk contents. */
  text: string;
  events: ExtractedEvent[];
  rejected: RejectedLine[];
  percent: number;
  pieces: number;
  usage: TokenUsage | null;
  /** Highest seq applied; frames at or below it are duplicates. */
  lastSeq: number;
  /** Latest human-readable message (start, progress or end). */
  message: string;
  error: { code: string; message: string; retryable: boolean } | null;
  durationMs: number;
  truncated: { included: number; total: number } | null;
  /** Long histories: the chunk being extracted now, of how many; null for a single call. */
  chunk: { index: number; total: number } | null;
}

/** An empty view of a run, before any frame. */
export function createRunView(runId: string): RunView {
  return {
    runId,
    userId: '',
    model: '',
    status: 'starting',
    text: '',
    events: [],
    rejected: [],
    percent: 0,
    pieces: 0,
    usage: null,
    lastSeq: 0,
    message: '',
    error: null,
    durationMs: 0,
    truncated: null,
    chunk: null,
  };
}

/**
 * Folds one frame into the view, in place. Returns false (and changes nothing) for a frame of another
 * run or one already applied (seq <= lastSeq), so replays after a reconnect are harmless.
 */
export function applyFrame(view: RunView, frame: RunFrame): boolean {
  if (frame.runId !== view.runId || frame.seq <= view.lastSeq) return false;
  view.lastSeq = frame.seq;
  switch (frame.type) {
    case 'start':
      view.userId = frame.userId;
      view.model = frame.model;
      view.message = frame.message;
      view.truncated = frame.truncated;
      view.status = 'starting';
      break;
    case 'progress':
      view.message = frame.message;
      view.percent = frame.percent;
      if (frame.stage === 'generating' || frame.stage === 'resumed' || frame.stage === 'chunk')
        view.status = 'streaming';
      if (frame.chunk) view.chunk = { index: frame.chunk.index, total: frame.chunk.total };
      // A resumed run is no longer in the state its last end frame described.
      if (frame.stage === 'resumed') view.error = null;
      if (frame.stage === 'line_rejected' && frame.rejected) view.rejected.push(frame.rejected);
      break;
    case 'llm_chunk':
      view.text += frame.content;
      view.pieces++;
      view.status = 'streaming';
      break;
    case 'event':
      // A merge (long histories): the events it replaces go, the merged one takes their place.
      if (frame.replaces?.length) {
        const gone = new Set(frame.replaces);
        view.events = view.events.filter((e) => !gone.has(e.lineNo));
      }
      view.events.push(frame.event);
      view.percent = frame.percent;
      break;
    case 'done':
    case 'cancelled':
    case 'error':
      view.message = frame.message;
      view.usage = frame.usage;
      view.pieces = frame.pieces;
      view.durationMs = frame.durationMs;
      if (frame.type === 'error') {
        view.error = { code: frame.code, message: frame.message, retryable: frame.retryable };
        view.status = frame.code === 'interrupted' ? 'interrupted' : 'error';
      } else {
        view.status = frame.type;
      }
      break;
    default: {
      const _: never = frame;
      return _;
    }
  }
  return true;
}
