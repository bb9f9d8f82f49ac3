import type { ConnectionState } from '@app/shared/client';
import { api } from '../api';
import { isLive } from '../status';
import type { Panel } from '../stores/panel.svelte';
import { browserLink } from './browser-link';
import { FrameLoop, type StatusChange } from './frame-loop';
import { SSE_MAX_LIVE } from './limits';
import { PanelRuns } from './panel-runs';
import { RunRequests, type RequestAction } from './run-requests';
import type { Transport, TransportHandlers } from './transport';
import { ViewCheck } from './view-check';

/** What {@link BoardStreams} reads and writes of the board. */
export interface StreamsHost {
  readonly panels: Panel[];
  connection: ConnectionState;
  transportKind: Transport['kind'];
  maxLive: number | null;
  now: number;
  /** The transport or the server's limit changed: start what may start now. */
  pump(): void;
  /** The status changes of one per-frame update. */
  updated(changes: StatusChange<Panel>[]): void;
  /** Applies the state just synced to the DOM now, so the per-frame budget counts the DOM writes. */
  render(): void;
  fail(panel: Panel, action: RequestAction, err: unknown): void;
  save(): void;
  /** A start that died with its transport: queue it again. */
  requeue(panel: Panel): void;
}

/**
 * The board's live side: the transport in use (and the server's limits it reports), frames folded into
 * the panels' views and synced once per animation frame, checks of live views against the server, and
 * the requests about shown runs.
 */
export class BoardStreams {
  readonly link = browserLink(
    (kind) => this.handlers(kind),
    () => this.host.panels.some((p) => p.status === 'starting' || p.busy),
  );
  private readonly transport = () => this.link.transport;
  private readonly frames = new FrameLoop<Panel>((changes) => this.host.updated(changes), {
    render: () => this.host.render(),
  });
  readonly runs = new PanelRuns<Panel>({
    transport: this.transport,
    changed: (p) => {
      this.checks.seen(p);
      this.frames.mark(p);
    },
  });
  readonly requests = new RunRequests<Panel>(this.runs, {
    transport: this.transport,
    onBoard: (p) => this.host.panels.includes(p),
    forgotten: () => this.host.save(),
    failed: (p, action, err) => this.host.fail(p, action, err),
    startedAt: (runId) => api.run(runId).then((d) => Date.parse(d.createdAt)),
    requeue: (p) => this.host.requeue(p),
  });
  private readonly checks = new ViewCheck<Panel>({
    stored: (runId) => api.run(runId).catch(() => null),
    rebuild: async (p, runId) => {
      this.runs.rebuild(p, runId);
      await this.transport()
        ?.watch(runId, 0)
        .catch((err: unknown) => this.host.fail(p, 'watch', err));
    },
  });

  constructor(private readonly host: StreamsHost) {}

  /** Connects (WebSocket, else SSE) and starts the once-a-second clock. Idempotent. */
  open(): void {
    if (this.link.state.name !== 'closed') return;
    this.link.onChange(({ newState, oldState }) => {
      this.host.transportKind = newState.name === 'websocket' ? 'ws' : 'sse';
      // Over WebSocket the server's hello sets the limit; SSE has no hello.
      this.host.maxLive = newState.name === 'websocket' ? null : SSE_MAX_LIVE;
      if (oldState.name !== 'closed') this.requests.rewatch(this.host.panels);
      this.host.pump();
    });
    this.link.open();
    setInterval(() => this.tick(), 1000);
  }

  private handlers(kind: Transport['kind']): TransportHandlers {
    return {
      frame: (f) => this.runs.frame(f),
      reset: (runId) => this.runs.reset(runId),
      state: (s) => {
        const before = this.host.connection;
        this.host.connection = s;
        // A WebSocket reconnect re-subscribes from cursors: check for a crash's lost frames.
        if (kind === 'ws' && s === 'connected' && (before === 'reconnecting' || before === 'offline'))
          this.checks.afterReconnect(() => this.host.panels);
      },
      limits: (l) => {
        // A limit of 0 refuses every start: trying one shows the server's reason instead of a silent queue.
        this.host.maxLive = Math.max(1, l.maxRunsPerSocket);
        this.host.pump();
      },
    };
  }

  /** Once a second: the elapsed clocks, and a look at live panels that went quiet. */
  private tick(): void {
    if (this.host.panels.some((p) => isLive(p.status))) this.host.now = Date.now();
    this.checks.tick(this.host.panels);
  }
}
