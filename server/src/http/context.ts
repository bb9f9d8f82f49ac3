import type { Logger } from 'pino';
import type { ModelInfo } from '@app/shared';
import type { Config } from '../config.js';
import type { DB } from '../db/open-database.js';
import type { RunsRepo } from '../db/runs-repo.js';
import type { UsersRepo } from '../db/users-repo.js';
import type { Metrics } from '../metrics.js';
import type { ProtocolCheck } from '../protocol/protocol-check.js';
import type { RunManager } from '../runs/run-manager.js';

/** What every route needs, built once in main and passed down (no module-level singletons). */
export interface AppContext {
  config: Config;
  db: DB;
  users: UsersRepo;
  runs: RunsRepo;
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
