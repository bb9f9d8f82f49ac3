import { AppError } from '../app-error.js';
import type { Run } from './run.js';
import type { RunManager } from './run-manager.js';

const limits = new WeakMap<RunManager, ClientRunLimit>();

/**
 * MAX_RUNNING_RUNS_PER_CLIENT: runs one client (by address) may have generating at once, however many
 * sockets or requests it spreads them over. Starts and resumes over REST, SSE and WebSocket all go
 * through here. A run counts while the manager says it is running, so nothing has to tell this module
 * when it settles.
 */
export class ClientRunLimit {
  /** Run ids each client started or resumed; settled ones are dropped when next looked at. */
  private readonly byClient = new Map<string, Set<string>>();
  private sweepAt = 64;

  constructor(
    private readonly manager: RunManager,
    private readonly max: number,
  ) {}

  /** The one limit of a manager (the server's), made on first use. */
  static of(manager: RunManager, max: number): ClientRunLimit {
    let limit = limits.get(manager);
    if (!limit) limits.set(manager, (limit = new ClientRunLimit(manager, max)));
    return limit;
  }

  /**
   * `manager.startOnce` for a client: the limit (and `alsoCheck`, e.g. the socket's) applies only when a
   * new run is about to start, so a retried keyed start of an existing run always gets it back.
   */
  startOnce(
    client: string,
    userId: string,
    key: string | undefined,
    alsoCheck?: () => void,
  ): Promise<{ run: Run; created: boolean }> {
    return this.manager.startOnce(userId, key, {
      check: () => {
        alsoCheck?.();
        this.check(client);
      },
      started: (run) => this.add(client, run.id),
    });
  }

  /** `manager.resume` for a client: a resumed run generates again, so it counts like a new one. */
  resume(client: string, runId: string, alsoCheck?: () => void): Promise<Run> {
    return this.manager.resume(runId, 'client', {
      check: () => {
        alsoCheck?.();
        this.check(client);
      },
      started: (run) => this.add(client, run.id),
    });
  }

  /** Runs this client has generating now. */
  running(client: string): number {
    const ids = this.byClient.get(client);
    if (!ids) return 0;
    for (const id of ids) if (!this.manager.isRunning(id)) ids.delete(id);
    if (ids.size === 0) this.byClient.delete(client);
    return ids.size;
  }

  private check(client: string): void {
    if (this.max === 0) return;
    const n = this.running(client);
    if (n >= this.max) {
      throw new AppError(
        'too_many_runs',
        `This client (${client}) already has ${n} running runs (limit ${this.max}); wait for one to end.`,
      );
    }
  }

  private add(client: string, runId: string): void {
    if (this.max === 0) return;
    let ids = this.byClient.get(client);
    if (!ids) this.byClient.set(client, (ids = new Set()));
    ids.add(runId);
    // Clients that never come back would stay listed: a sweep whenever the list has doubled keeps it
    // at about twice the clients with running runs, at a constant cost per start.
    if (this.byClient.size >= this.sweepAt) {
      for (const c of [...this.byClient.keys()]) this.running(c);
      this.sweepAt = Math.max(64, this.byClient.size * 2);
    }
  }
}
