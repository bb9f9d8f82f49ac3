import { loadJson, saveJson } from '../persist';
import { SERVER_LIMIT } from './run-queue';

/** What survives a reload: the board's users, the run each panel shows, the queue and the layout. */
export interface SavedPanel {
  userId: string;
  name: string | null;
  runId: string | null;
  /** Concurrency limit of the batch it waits in (`server`: a single start); absent when not queued. */
  queued?: number | 'server';
  /** Key of a start still in flight: after a reload the start is sent again with it (no second run). */
  startKey?: string;
}

export interface SavedBoard {
  panels: SavedPanel[];
  columns: number;
  concurrency: number;
}

const KEY = 'es.board.v1';
export const EMPTY_BOARD: SavedBoard = { panels: [], columns: 0, concurrency: 4 };

const isQueued = (q: unknown): boolean =>
  q === undefined || q === 'server' || (typeof q === 'number' && Number.isInteger(q) && q > 0);

export const isSavedBoard = (v: unknown): v is SavedBoard =>
  typeof v === 'object' &&
  v !== null &&
  Array.isArray((v as SavedBoard).panels) &&
  (v as SavedBoard).panels.every(
    (p) =>
      typeof p === 'object' &&
      p !== null &&
      typeof p.userId === 'string' &&
      (p.runId === null || typeof p.runId === 'string') &&
      (p.startKey === undefined || typeof p.startKey === 'string') &&
      isQueued(p.queued),
  );

/** The part of a panel that is saved. */
export interface StoredPanel {
  readonly userId: string;
  readonly name: string | null;
  readonly runId: string | null;
  readonly status: string;
  readonly startKey: string | null;
}

/** What to save of a board: `queueLimit` gives a waiting panel's limit (undefined when not queued). */
export function snapshot<P extends StoredPanel>(
  panels: readonly P[],
  queueLimit: (p: P) => number | undefined,
  layout: { columns: number; concurrency: number },
): SavedBoard {
  return {
    panels: panels.map((p) => {
      const limit = queueLimit(p);
      const queued =
        limit === undefined ? {} : { queued: limit === SERVER_LIMIT ? ('server' as const) : limit };
      // Only a start in flight is sent again after a reload; an idle panel never starts by itself.
      const starting = p.startKey && !p.runId && p.status === 'starting' ? { startKey: p.startKey } : {};
      return { userId: p.userId, name: p.name, runId: p.runId, ...queued, ...starting };
    }),
    columns: layout.columns,
    concurrency: layout.concurrency,
  };
}

/** A saved queue limit as the queue takes it. */
export const queueLimitOf = (q: SavedPanel['queued']): number | undefined =>
  q === undefined ? undefined : q === 'server' ? SERVER_LIMIT : q;

export const loadBoard = (): SavedBoard => loadJson(KEY, EMPTY_BOARD, isSavedBoard);
export const saveBoard = (b: SavedBoard): void => saveJson(KEY, b);

/** What a saved panel asks of the board when it comes back. */
export interface RestoreHooks<P> {
  /** Shows the run the panel showed. */
  watch(panel: P, runId: string): void;
  /** Sends again a start that was in flight, with its key. */
  resend(panel: P, startKey: string): void;
  enqueue(panel: P, limit: number): void;
}

/** Brings back a saved board's panels: `make` adds one (or returns null for a user already there). */
export function restore<P>(
  saved: SavedBoard,
  make: (s: SavedPanel) => P | null,
  hooks: RestoreHooks<P>,
): void {
  for (const s of saved.panels) {
    const panel = make(s);
    if (!panel) continue;
    if (s.runId) hooks.watch(panel, s.runId);
    // Reloaded while its start was in flight: the same key finds the run if the server got it.
    else if (s.startKey) hooks.resend(panel, s.startKey);
    const limit = queueLimitOf(s.queued);
    if (limit !== undefined) hooks.enqueue(panel, limit);
  }
}
