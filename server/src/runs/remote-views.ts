import type { RunsStore } from '../store/types.js';
import type { Ownership } from './ownership.js';
import { RemoteRun } from './remote-run.js';
import type { Run } from './run.js';
import type { Subscription } from './subscription.js';

/**
 * The runs other instances generate that watchers here follow: one view per run, read once from storage
 * and then fed by this instance's one stream reader; it goes when its last watcher leaves, or when the
 * run comes to be generated here (resumed or taken over).
 */
export class RemoteViews {
  private readonly views = new Map<string, RemoteRun>();
  private readonly reading = new Map<string, Promise<RemoteRun>>();

  constructor(private readonly deps: { ownership: Ownership; runs: RunsStore }) {}

  get(runId: string): RemoteRun | undefined {
    return this.views.get(runId);
  }

  /** The view of a run, made on first use (two watchers asking at once share one read). */
  follow(runId: string): Promise<RemoteRun> {
    const known = this.views.get(runId);
    if (known) return Promise.resolve(known);
    let p = this.reading.get(runId);
    if (!p) {
      p = (async () => {
        const frames = await this.deps.runs.framesAfter(runId, 0);
        const view = new RemoteRun(runId, frames, (after) => this.deps.runs.framesAfter(runId, after));
        this.views.set(runId, view);
        this.deps.ownership.follow(runId, view);
        return view;
      })().finally(() => this.reading.delete(runId));
      this.reading.set(runId, p);
    }
    return p;
  }

  /** Moves watchers onto the view of their run (they were on a copy here that is out of date or gone). */
  async attach(runId: string, subs: Iterable<Subscription>): Promise<void> {
    const list = [...subs];
    if (list.length === 0) return;
    const view = await this.follow(runId);
    for (const sub of list) {
      sub.rebind(view);
      view.watchers.add(sub);
      sub.pump();
    }
  }

  /** A watcher left; a view nobody watches stops being followed. */
  detach(sub: Subscription): void {
    const view = this.views.get(sub.runId);
    if (view?.watchers.delete(sub) && view.watchers.size === 0) this.drop(sub.runId);
  }

  /** The run is generated here now: the view's watchers move to it. */
  adoptInto(run: Run): void {
    const view = this.views.get(run.id);
    if (!view) return;
    this.drop(run.id);
    for (const sub of view.watchers) {
      sub.rebind(run);
      run.watchers.add(sub);
    }
  }

  /** Stops following every run (shutdown). */
  clear(): void {
    for (const id of [...this.views.keys()]) this.drop(id);
  }

  private drop(runId: string): void {
    this.views.delete(runId);
    this.deps.ownership.unfollow(runId);
  }
}
