import type { ExtractedEvent, FrameDraft, RejectedLine } from '@app/shared';

/**
 * The one owner of a stored frame's bytes. A frame is JSON that always leads with
 * `{"type":"…","runId":"…","seq":N`, so writers build it without re-encoding the run id per piece and
 * readers find a frame's type, run and seq without parsing it.
 */
export class FrameCodec {
  /** `,"runId":"…","seq":` — what follows the type in every frame of this run. */
  readonly mark: string;

  constructor(readonly runId: string) {
    this.mark = `,"runId":${JSON.stringify(runId)},"seq":`;
  }

  /** Any frame: its fields are encoded once, after the leading three. */
  encode(seq: number, draft: FrameDraft): string {
    const { type, ...rest } = draft;
    const body = JSON.stringify(rest);
    return this.lead(type, seq, body.length > 2 ? `,${body.slice(1)}` : '}');
  }

  /** The hottest frame skips the generic path's object copy and re-encode. */
  chunk(seq: number, content: string): string {
    return this.lead('llm_chunk', seq, `,"content":${JSON.stringify(content)}}`);
  }

  /** The seq of `json` if it is a frame of this run, else null. */
  seqOf(json: string): number | null {
    const at = json.indexOf(this.mark);
    if (at < 0 || at > 40) return null; // the mark sits right after `{"type":"…"`
    return parseInt(json.slice(at + this.mark.length), 10);
  }

  private lead(type: string, seq: number, tail: string): string {
    return `{"type":"${type}"${this.mark}${seq}${tail}`;
  }
}

export const isChunk = (json: string): boolean => json.startsWith('{"type":"llm_chunk"');
const isEvent = (json: string): boolean => json.startsWith('{"type":"event"');
const isRejection = (json: string): boolean =>
  json.startsWith('{"type":"progress"') && json.includes('"stage":"line_rejected"');
/** The frame a restart adds to a run it found running. */
export const isInterruption = (json: string): boolean =>
  json.startsWith('{"type":"error"') && json.includes('"code":"interrupted"');
export const chunkContent = (json: string): string => (JSON.parse(json) as { content: string }).content;

/** What a run's log says about it: the state a run read back from storage is rebuilt from. */
export interface LogState {
  text: string;
  pieces: number;
  /** Events live at the end of the log (merged ones replaced by what they merged into). */
  events: ExtractedEvent[];
  rejected: RejectedLine[];
  /** Lines settled as cut off (cancel, crash): the parser must not validate them again. */
  cutOffLines: Set<number>;
  /** Every `event` frame in order, with the lines it replaced: a merger replays them. */
  eventFrames: { event: ExtractedEvent; replaces: number[]; chunk: number }[];
  /** Behaviours per chunk, from the start frame; null when one call covers the history. */
  chunkSizes: number[] | null;
  /** Extraction passes, from the start frame. */
  passes: number;
  /** Each chunk whose output began, with where its text begins. */
  chunkStarts: { index: number; textAt: number }[];
  merged: number;
}

/** Reads a run's frames once: text, pieces, lines, the lines cut off, chunks and merges. */
export function readLog(frames: readonly string[]): LogState {
  const state: LogState = {
    text: '',
    pieces: 0,
    events: [],
    rejected: [],
    cutOffLines: new Set(),
    eventFrames: [],
    chunkSizes: null,
    passes: 1,
    chunkStarts: [],
    merged: 0,
  };
  const parts: string[] = [];
  let textAt = 0;
  const live = new Map<number, ExtractedEvent>();
  for (const json of frames) {
    if (isChunk(json)) {
      const c = chunkContent(json);
      parts.push(c);
      textAt += c.length;
      state.pieces++;
    } else if (isEvent(json)) {
      const f = JSON.parse(json) as { event: ExtractedEvent; replaces?: number[] };
      const replaces = f.replaces ?? [];
      for (const line of replaces) live.delete(line);
      live.set(f.event.lineNo, f.event);
      state.merged += replaces.length;
      state.eventFrames.push({ event: f.event, replaces, chunk: state.chunkStarts.at(-1)?.index ?? 1 });
    } else if (json.startsWith('{"type":"start"')) {
      const start = JSON.parse(json) as { chunks?: number[]; passes?: number };
      state.chunkSizes = start.chunks ?? null;
      state.passes = start.passes ?? 1;
    } else if (json.startsWith('{"type":"progress"') && json.includes('"stage":"chunk"')) {
      const index = (JSON.parse(json) as { chunk: { index: number } }).chunk.index;
      state.chunkStarts.push({ index, textAt });
    } else if (isRejection(json)) {
      const line = (JSON.parse(json) as { rejected?: RejectedLine }).rejected;
      if (!line) continue;
      state.rejected.push(line);
      if (line.code === 'cut_off') state.cutOffLines.add(line.lineNo);
    }
  }
  state.text = parts.join('');
  state.events = [...live.values()];
  return state;
}

/** Line numbers a run's log settled as cut off, without parsing any other frame. */
export function cutOffLinesOf(frames: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const json of frames) {
    if (!isRejection(json) || !json.includes('"code":"cut_off"')) continue;
    const line = (JSON.parse(json) as { rejected?: RejectedLine }).rejected;
    if (line?.code === 'cut_off') out.add(line.lineNo);
  }
  return out;
}

/** The frame ends an attempt of the run (more come only if it is resumed). */
export const isTerminal = (json: string): boolean =>
  json.startsWith('{"type":"done"') ||
  json.startsWith('{"type":"error"') ||
  json.startsWith('{"type":"cancelled"');

/** The status a terminal frame leaves its run in. */
export const statusOfTerminal = (json: string): 'done' | 'error' | 'cancelled' =>
  json.startsWith('{"type":"done"') ? 'done' : json.startsWith('{"type":"error"') ? 'error' : 'cancelled';
