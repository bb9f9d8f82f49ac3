import type { RunStatus } from '@app/shared';
import type { MessageKey } from './i18n';

/**
 * What a board panel shows: a run view's status (`starting`…`interrupted`, from the client), or the
 * board's own states around it: no run yet, waiting in the batch queue, re-attaching to a known run.
 */
export type PanelStatus =
  'idle' | 'queued' | 'attaching' | 'starting' | 'streaming' | 'done' | 'cancelled' | 'error' | 'interrupted';

/** A stored run's status in the panel vocabulary (a stored `running` run is streaming). */
export const fromRunStatus = (s: RunStatus): PanelStatus => (s === 'running' ? 'streaming' : s);

export const isLive = (s: PanelStatus): boolean => s === 'starting' || s === 'streaming';
export const isSettled = (s: PanelStatus): boolean =>
  s === 'done' || s === 'cancelled' || s === 'error' || s === 'interrupted';

const KEYS: Record<PanelStatus, MessageKey> = {
  idle: 'status.idle',
  queued: 'status.queued',
  attaching: 'status.attaching',
  starting: 'status.starting',
  streaming: 'status.streaming',
  done: 'status.done',
  cancelled: 'status.cancelled',
  error: 'status.error',
  interrupted: 'status.interrupted',
};

export const statusKey = (s: PanelStatus): MessageKey => KEYS[s];
