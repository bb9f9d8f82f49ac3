import type { LogWriter, RunsStore, UsersStore } from './types.js';

/**
 * Reads that see every frame already sent: what the writer has queued is stored before a read of runs
 * (a no-op when nothing is queued). The one place reads wait for writes; routes and the run loop just read.
 */
export class FreshRuns implements RunsStore {
  constructor(
    private readonly runs: RunsStore,
    private readonly writer: LogWriter,
  ) {}

  private async fresh<T>(read: () => Promise<T>): Promise<T> {
    await this.writer.flush();
    return read();
  }

  summary(id: string) {
    return this.fresh(() => this.runs.summary(id));
  }
  stored(id: string) {
    return this.fresh(() => this.runs.stored(id));
  }
  detail(id: string, liveText?: string) {
    return this.fresh(() => this.runs.detail(id, liveText));
  }
  list(opts: Parameters<RunsStore['list']>[0]) {
    return this.fresh(() => this.runs.list(opts));
  }
  events(opts: Parameters<RunsStore['events']>[0]) {
    return this.fresh(() => this.runs.events(opts));
  }
  /** Not flushed: a start asks the writer's queue first (`queuedRunWithKey`), then storage. */
  byStartKey(key: string) {
    return this.runs.byStartKey(key);
  }
  /** Not flushed: a run that is not stored yet is one this instance generates, never an orphan. */
  runningIds() {
    return this.runs.runningIds();
  }
  cancelledByShutdown() {
    return this.fresh(() => this.runs.cancelledByShutdown());
  }
  framesAfter(runId: string, after: number) {
    return this.fresh(() => this.runs.framesAfter(runId, after));
  }
}

/** Users as {@link FreshRuns} sees runs: the list shows each user's last run as last written. */
export class FreshUsers implements UsersStore {
  constructor(
    private readonly users: UsersStore,
    private readonly writer: LogWriter,
  ) {}

  get imports() {
    return this.users.imports;
  }
  get(id: string) {
    return this.users.get(id);
  }
  behaviours(userId: string) {
    return this.users.behaviours(userId);
  }
  behaviourOwnerOf(id: string) {
    return this.users.behaviourOwnerOf(id);
  }
  count() {
    return this.users.count();
  }
  async list(opts: Parameters<UsersStore['list']>[0]) {
    await this.writer.flush();
    return this.users.list(opts);
  }
  upsertAll(...args: Parameters<UsersStore['upsertAll']>) {
    return this.users.upsertAll(...args);
  }
}
