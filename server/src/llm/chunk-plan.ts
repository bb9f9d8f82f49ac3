import type { Behaviour } from '@app/shared';
import { renderBehaviour } from './prompt.js';

/** Behaviours closer than this belong to one session, which a chunk never splits unless it must. */
export const SESSION_GAP_MIN = 30;

/**
 * How a history is split into upstream calls: each chunk's behaviours, in time order. Chunks are whole
 * days where a day fits the budget, whole sessions where it does not, and only a session larger than
 * the budget is cut inside (events cut by that are merged back, see event-merger.ts).
 */
export interface ChunkPlan {
  /** Behaviours per chunk, in time order; together they are the whole history, each once. */
  chunks: Behaviour[][];
}

const minutes = (ts: string): number => Date.parse(`${ts.replace(' ', 'T')}:00Z`) / 60_000;

/** Sorted by time (ties keep their order), as the prompt renders them. */
export function byTime(behaviours: readonly Behaviour[]): Behaviour[] {
  return behaviours
    .map((b, i) => ({ b, i }))
    .sort((x, y) => (x.b.ts < y.b.ts ? -1 : x.b.ts > y.b.ts ? 1 : x.i - y.i))
    .map((x) => x.b);
}

/** Splits `items` where `apart(prev, next)` says two neighbours do not belong together. */
function split<T>(items: T[], apart: (a: T, b: T) => boolean): T[][] {
  const out: T[][] = [];
  for (const it of items) {
    const last = out[out.length - 1];
    if (last && !apart(last[last.length - 1]!, it)) last.push(it);
    else out.push([it]);
  }
  return out;
}

/**
 * Plans the chunks of a history so that each chunk's behaviour block stays within `budgetChars`
 * (rendered exactly as the prompt renders it). A history that fits is one chunk: short histories run
 * exactly as they always have.
 */
export function planChunks(behaviours: readonly Behaviour[], budgetChars: number): ChunkPlan {
  const sorted = byTime(behaviours);
  const cost = (b: Behaviour) => renderBehaviour(b).length + 1;
  const size = (bs: Behaviour[]) => bs.reduce((n, b) => n + cost(b), 0);
  // Units that stay together: days; a day too big for one chunk falls apart into sessions, and a
  // session too big into single behaviours.
  const units: Behaviour[][] = [];
  for (const day of split(sorted, (a, b) => a.ts.slice(0, 10) !== b.ts.slice(0, 10))) {
    if (size(day) <= budgetChars) {
      units.push(day);
      continue;
    }
    for (const session of split(day, (a, b) => minutes(b.ts) - minutes(a.ts) >= SESSION_GAP_MIN)) {
      if (size(session) <= budgetChars) units.push(session);
      else units.push(...session.map((b) => [b]));
    }
  }
  const chunks: Behaviour[][] = [];
  let current: Behaviour[] = [];
  let used = 0;
  for (const unit of units) {
    const c = size(unit);
    if (current.length > 0 && used + c > budgetChars) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(...unit);
    used += c;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return { chunks };
}
