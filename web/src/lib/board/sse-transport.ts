import type { RunStatus } from '@app/shared';
import {
  cancelRunRest,
  resumeRunRest,
  startRunRest,
  watchRunSse,
  type EventSourceCtor,
} from '@app/shared/client';
import type { Transport, TransportHandlers } from './transport';

/** SSE per run (EventSource with Last-Event-ID) plus REST start, cancel and resume. */
export class SseTransport implements Transport {
  readonly kind = 'sse' as const;
  private readonly streams = new Map<string, () => void>();
  /** A watch or resume answered after close must not open a stream nobody will close. */
  private closed = false;

  constructor(
    private readonly EventSource: EventSourceCtor,
    private readonly on: TransportHandlers,
    /** The run's stored status, since an SSE stream has no subscribe answer. */
    private readonly statusOf: (runId: string) => Promise<RunStatus | null>,
  ) {
    on.state('connected');
  }

  async start(userId: string, key?: string): Promise<string> {
    const { runId } = await startRunRest('', userId, { key });
    this.open(runId, 0);
    return runId;
  }

  async watch(runId: string, after: number): Promise<RunStatus | null> {
    // No frame of an earlier stream of this run may arrive once the caller asked to start over.
    this.unwatch(runId);
    const status = await this.statusOf(runId);
    this.open(runId, after);
    return status;
  }

  unwatch(runId: string): void {
    this.streams.get(runId)?.();
    this.streams.delete(runId);
  }

  cancel(runId: string): Promise<void> {
    return cancelRunRest('', runId);
  }

  async resume(runId: string, after: number): Promise<void> {
    await resumeRunRest('', runId);
    // The earlier stream ended with the run; the resumed frames come on a new one.
    this.open(runId, after);
  }

  close(): void {
    this.closed = true;
    for (const stop of this.streams.values()) stop();
    this.streams.clear();
    this.on.state('closed');
  }

  private open(runId: string, after: number): void {
    if (this.closed) return;
    this.streams.get(runId)?.();
    const stop = watchRunSse({
      baseUrl: '',
      runId,
      after,
      EventSource: this.EventSource,
      onFrame: this.on.frame,
      onEnd: () => {
        if (this.streams.get(runId) === stop) this.streams.delete(runId);
      },
    });
    this.streams.set(runId, stop);
  }
}
