import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Prometheus metrics of one server instance (own registry, so several servers can share a process). */
export class Metrics {
  readonly registry = new Registry();
  readonly runsStarted = new Counter({
    name: 'es_runs_started_total',
    help: 'Runs started or resumed.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly runsSettled = new Counter({
    name: 'es_runs_settled_total',
    help: 'Run attempts that ended, by final status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly sseStreams = new Gauge({
    name: 'es_sse_streams',
    help: 'Open SSE responses.',
    registers: [this.registry],
  });

  constructor(sources: {
    runningRuns(): number;
    runsInMemory(): number;
    parkedWatchers(): number;
    webSockets(): number;
    /** Cluster figures (0 in embedded mode). */
    runsOwned?(): number;
    runsTakenOver?(): number;
    streamReads?(): number;
    leaseRenewalsFailed?(): number;
  }) {
    collectDefaultMetrics({ register: this.registry });
    // Read at scrape time: nothing to update on the hot path.
    const sampled = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    sampled('es_runs_running', 'Runs generating now.', sources.runningRuns);
    sampled(
      'es_runs_in_memory',
      'Runs held in memory: running, watched while catching up, or settled and kept for re-attach.',
      sources.runsInMemory,
    );
    sampled(
      'es_parked_watchers',
      'Subscriptions to finished runs that left memory (a cursor each; a resume reaches them).',
      sources.parkedWatchers,
    );
    sampled('es_websockets', 'Open WebSocket connections.', sources.webSockets);
    const zero = () => 0;
    sampled('es_cluster_runs_owned', 'Runs whose lease this instance holds.', sources.runsOwned ?? zero);
    sampled(
      'es_cluster_runs_taken_over',
      'Runs this instance took over from an instance that died or handed them over (since start).',
      sources.runsTakenOver ?? zero,
    );
    sampled(
      'es_cluster_stream_reads',
      "Reads of other instances' run streams (at a follow, a reconnect, or an announcement that skips frames; live frames come pushed).",
      sources.streamReads ?? zero,
    );
    sampled(
      'es_cluster_lease_renewals_failed',
      'Lease renewals that failed (Redis unreachable, or the lease already gone).',
      sources.leaseRenewalsFailed ?? zero,
    );
  }
}
