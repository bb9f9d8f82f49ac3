/** Framework-free client of the run stream: WebSocket with reconnects, SSE fallback, REST helpers. */
export { applyFrame, createRunView, type RunView } from './run-view.js';
export { DEFAULT_BACKOFF, fullJitterDelay, type BackoffOptions } from './backoff.js';
export type { InvalidMessage } from './parse-message.js';
export { StreamClient, type StreamClientOptions, type WatchInfo } from './stream-client.js';
export {
  ClientError,
  type ClientErrorCode,
  type ConnectionState,
  type NetworkStatus,
  type StateChange,
  type WebSocketCtor,
  type WebSocketLike,
} from './types.js';
export {
  cancelRunRest,
  resumeRunRest,
  startRunRest,
  watchRunSse,
  type EventSourceCtor,
  type EventSourceLike,
  type RestOptions,
} from './sse-watch.js';
