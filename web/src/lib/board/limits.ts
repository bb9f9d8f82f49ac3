/**
 * Runs the board keeps live at once over SSE, where no hello names the server's limit. Each live run
 * holds one EventSource, and a browser opens at most 6 HTTP/1.1 connections to one origin: 4 leaves
 * room for the REST calls (start, cancel, resume, health) and for re-attached runs still streaming.
 */
export const SSE_MAX_LIVE = 4;

/** A batch's concurrency within [1, maxLive] (any when the limit is not known yet). */
export function clampConcurrency(n: number, maxLive: number | null): number {
  const whole = Number.isFinite(n) ? Math.max(1, Math.floor(n)) : 1;
  return maxLive === null ? whole : Math.min(maxLive, whole);
}
