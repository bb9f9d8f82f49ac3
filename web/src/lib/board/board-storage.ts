import { loadJson, saveJson } from './persist';

/** What survives a reload: the board's users, the run each panel shows, the queue and the layout. */
export interface SavedPanel {
  userId: string;
  name: string | null;
  runId: string | null;
  /** Concurrency limit of the batch it waits in; absent when not queued. */
  queued?: number;
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
      (p.startKey === undefined || typeof p.startKey === 'string'),
  );

export const loadBoard = (): SavedBoard => loadJson(KEY, EMPTY_BOARD, isSavedBoard);
export const saveBoard = (b: SavedBoard): void => saveJson(KEY, b);
