import type { ConnectionState } from '@app/shared/client';
import { flushSync } from 'svelte';
import { BoardCore, type User } from '../board/board-core';
import type { Transport } from '../board/transport';
import { Panel } from './panel.svelte';

export type { ActionFailure } from '../board/board-core';
export type { StatusChange } from '../board/frame-loop';
export type { Panel };

/**
 * The runes adapter of the board (lib/board/board-core.ts): its state as `$state`, so components
 * re-render when it changes. Frames are folded into plain run views and copied to the panels' reactive
 * state once per animation frame (lib/board/frame-loop.ts).
 */
class Board extends BoardCore {
  panels = $state<Panel[]>([]);
  connection = $state<ConnectionState>('connecting');
  transportKind = $state<Transport['kind']>('ws');
  /** Most runs live at once: the server's per-socket limit from its hello, a default on SSE; null until known. */
  maxLive = $state<number | null>(null);
  /** Grid columns; 0 = as many as fit. */
  columns = $state(0);
  concurrency = $state(4);
  /** Ticks once a second while something is live, for elapsed clocks. */
  now = $state(Date.now());
  /** Bumped whenever a run settles, so lists showing "last run" can refresh. */
  settledCount = $state(0);

  protected newPanel(user: User): Panel {
    return new Panel(user.id, user.name);
  }

  render(): void {
    flushSync();
  }
}

export const board = new Board();
