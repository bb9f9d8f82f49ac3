import type { Logger } from 'pino';
import type { ModelInfo } from '@app/shared';
import type { Config } from '../config.js';
import type { DB } from '../db/open-database.js';
import type { Metrics } from '../metrics.js';
import type { ProtocolCheck } from '../protocol/protocol-check.js';
import type { RunManager } from '../runs/run-manager.js';
import type { Store } from '../store/open-store.js';
import type { RunsStore, UsersStore } from '../store/types.js';

/** What every route needs, built once in main and passed down (no module-level singletons). */
export interface AppContext {
  config: Config;
  /** The SQLite database; embedded mode only (tests reach into it). */
  db: DB;
  /** Storage and bus in use, and this instance's id. */
  store: Store;
  users: UsersStore;
  runs: RunsStore;
  manager: RunManager;
  log: Logger;
  metrics: Metrics;
  model: ModelInfo;
  /** Set with PROTOCOL_CHECK=on: every outgoing message is checked against its schema. */
  protocolCheck: ProtocolCheck | null;
}

export interface HonoEnv {
  Bindings: { incoming: import('node:http').IncomingMessage; outgoing: import('node:http').ServerResponse };
}
