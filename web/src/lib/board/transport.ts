import type { RunFrame, RunStatus, ServerLimits } from '@app/shared';
import type { ConnectionState } from '@app/shared/client';

/**
 * The board's link to the server: the shared client's WebSocket, or its SSE + REST fallback.
 * Both deliver the same frames (same seq cursor), so the board does not care which one is in use.
 */
export interface Transport {
  readonly kind: 'ws' | 'sse';
  /** `key`: the same key on a retry returns the run it started instead of a second one. */
  start(userId: string, key?: string): Promise<string>;
  /** Watches a run after `after`; resolves the run's status at that moment when the transport knows it. */
  watch(runId: string, after: number): Promise<RunStatus | null>;
  unwatch(runId: string): void;
  cancel(runId: string): Promise<void>;
  /** `after`: the last seq the caller has applied, so no resumed frame is missed. */
  resume(runId: string, after: number): Promise<void>;
  close(): void;
}

/** What a transport reports to the board. */
export interface TransportHandlers {
  frame(f: RunFrame): void;
  /** The run's log restarts from seq 1 (the server lost frames we had seen): rebuild its view. */
  reset(runId: string): void;
  state(s: ConnectionState): void;
  /** The server's limits, from the hello on each new WebSocket (SSE has no hello). */
  limits(l: ServerLimits): void;
}

/** Same origin as the page. */
export const wsUrl = (): string =>
  `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
