import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import OpenAI from 'openai';
import { loadConfig, type Config, type Env } from './config.js';
import { loadDemoDataIfEmpty } from './data/demo-data.js';
import { createNodeFetch } from './upstream/node-fetch.js';
import { createApp } from './http/app.js';
import type { AppContext } from './http/context.js';
import { trackResponses } from './http/open-responses.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { ProtocolCheck } from './protocol/protocol-check.js';
import { startBuiltinModel, type BuiltinModel } from './model/index.js';
import { RunManager } from './runs/run-manager.js';
import { openStore } from './store/open-store.js';
import { ClusterOwnership } from './store/redis/cluster-ownership.js';
import { attachWebSocket } from './ws/attach-websocket.js';

/** The repository root, so `data/app.db` and `web/build` mean the same wherever the process starts. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** How long a shutdown waits for watchers to receive the runs' final frames before cutting sockets. */
export const SHUTDOWN_GRACE_MS = 3000;

export interface RunningServer {
  url: string;
  port: number;
  ctx: AppContext;
  /** Present when no OPENAI_BASE_URL is configured. */
  builtin: BuiltinModel | null;
  close(): Promise<void>;
}

/** Builds and starts the whole server: database, model, runs, HTTP, SSE, WebSocket and UI on one port. */
export async function startServer(
  opts: { env?: Record<string, string | undefined>; overrides?: Partial<Env> } = {},
): Promise<RunningServer> {
  const config: Config = loadConfig(opts.env ?? process.env, opts.overrides);
  const log = createLogger(config.LOG_LEVEL);
  const store = await openStore(config, REPO_ROOT, log);
  const { users, runs, writer } = store;
  if (config.DEMO_DATA === 'on') {
    const demo = await loadDemoDataIfEmpty(users);
    if (demo.loaded) log.info({ users: demo.users, behaviours: demo.behaviours }, 'demo data loaded');
  }

  let builtin: BuiltinModel | null = null;
  let baseURL = config.OPENAI_BASE_URL;
  if (!baseURL) {
    builtin = await startBuiltinModel({
      piecesPerSecond: config.BUILTIN_PIECES_PER_SECOND,
      firstPieceDelayMs: config.BUILTIN_FIRST_PIECE_MS,
    });
    baseURL = builtin.baseURL;
  }
  const modelName = config.LLM_MODEL ?? builtin?.modelName ?? 'gpt-4o-mini';
  // Always the real SDK over HTTP, the built-in model included; retries are ours, to report them.
  const llm = new OpenAI({
    baseURL,
    apiKey: config.OPENAI_API_KEY ?? 'builtin',
    maxRetries: 0,
    fetch: createNodeFetch(),
  });
  // Gauges are read at scrape time, by then the WebSocket server below exists.
  const metrics: Metrics = new Metrics({
    runningRuns: (): number => manager.running(),
    runsInMemory: (): number => manager.inMemory(),
    parkedWatchers: (): number => manager.parkedWatchers(),
    webSockets: (): number => ws.clients(),
    runsOwned: (): number => store.ownership.owned(),
    runsTakenOver: (): number => manager.takenOver,
    streamReads: (): number => (store.ownership instanceof ClusterOwnership ? store.ownership.tail.reads : 0),
    leaseRenewalsFailed: (): number =>
      store.ownership instanceof ClusterOwnership ? store.ownership.bus.counters.leaseRenewalsFailed : 0,
  });
  const manager: RunManager = new RunManager({
    config,
    users,
    runs,
    writer,
    llm,
    modelName,
    log,
    metrics,
    ownership: store.ownership,
    takeoverCheckMs: config.TAKEOVER_CHECK_MS,
  });
  await manager.startSharing();
  const recovered = await manager.recoverInterrupted();
  if (recovered.interrupted > 0)
    log.warn(recovered, 'runs left running by a previous process: marked interrupted, continued unless off');

  const ctx: AppContext = {
    config,
    db: store.db!,
    store,
    users,
    runs,
    manager,
    log,
    metrics,
    model: { name: modelName, builtin: builtin !== null, baseURL: builtin ? 'built-in' : baseURL },
    protocolCheck: config.PROTOCOL_CHECK === 'on' ? new ProtocolCheck(log) : null,
  };
  const webDir = config.WEB_BUILD_DIR ?? resolve(REPO_ROOT, 'web/build');
  const app = createApp(ctx, { webDir });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const ws = attachWebSocket(server, ctx);
  const responses = trackResponses(server);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(config.PORT, config.host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${port}`;
  if (!config.API_TOKEN && !['127.0.0.1', 'localhost', '::1'].includes(config.host)) {
    log.warn(
      { host: config.host },
      'listening beyond loopback without API_TOKEN: anyone who can reach this port can run extractions',
    );
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // No new connections from here on.
      const stopped = new Promise<void>((ok) => server.close(() => ok()));
      // Runs end first, so every watcher (WebSocket and SSE) gets the `cancelled` frame (shutdown);
      // then sockets close with 1001 and SSE responses end, within a bound a stuck client cannot stretch.
      await manager.shutdown();
      await Promise.all([ws.close(SHUTDOWN_GRACE_MS), responses.ended(SHUTDOWN_GRACE_MS)]);
      server.closeAllConnections();
      await stopped;
      await builtin?.close();
      await store.close();
    })());
  return { url, port, ctx, builtin, close };
}
