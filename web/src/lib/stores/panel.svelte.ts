import type { ExtractedEvent, RejectedLine, TokenUsage } from '@app/shared';
import type { RunView } from '@app/shared/client';
import type { PanelView } from '../board/panel-runs';
import type { TextSource } from '../board/text-log';
import { isLive, type PanelStatus } from '../status';

/**
 * One user's panel on the board: reactive copies of its run view's fields. The view itself stays a plain
 * object the client's `applyFrame` folds frames into; {@link Panel.sync} copies it here once per
 * animation frame, so a burst of frames costs one DOM update.
 */
export class Panel {
  readonly userId: string;
  name = $state<string | null>(null);
  runId = $state<string | null>(null);
  status = $state<PanelStatus>('idle');
  /** The model text, read by offset so that a view of it appends only what is new. */
  text = $state.raw<TextSource | null>(null);
  /** Its length: changes whenever text was added. */
  textLength = $state(0);
  /** Bumped whenever the text starts over (another run, a replay), so views of it can append otherwise. */
  textEpoch = $state(0);
  events = $state.raw<ExtractedEvent[]>([]);
  rejected = $state.raw<RejectedLine[]>([]);
  percent = $state(0);
  pieces = $state(0);
  usage = $state.raw<TokenUsage | null>(null);
  message = $state('');
  error = $state.raw<RunView['error']>(null);
  /** Wall time of the run's finished attempts. */
  durationMs = $state(0);
  truncated = $state.raw<RunView['truncated']>(null);
  /** When the current attempt began (ms epoch), for the elapsed clock; null when not live. */
  liveSince = $state<number | null>(null);
  /** 1-based place in the batch queue while queued. */
  queuePos = $state(0);
  /** A cancel/resume/start request is in flight. */
  busy = $state(false);

  /** The run view frames are folded into (plain, not reactive). */
  view: PanelView | null = null;
  /** Key of the start in flight, kept until it is answered so a retry cannot start a second run. */
  startKey: string | null = null;
  /** Status changes deserve a toast: we started/resumed the run, or it was live when we attached. */
  notify = false;
  /** What was copied last: a view's lists grow in place, and a merge (`replaces`) makes a new events array. */
  private synced: {
    view: PanelView | null;
    events: ExtractedEvent[] | null;
    eventCount: number;
    rejected: number;
  } = { view: null, events: null, eventCount: 0, rejected: 0 };

  constructor(userId: string, name: string | null = null) {
    this.userId = userId;
    this.name = name;
  }

  /** Forgets the shown run (before a new one or a re-attach). */
  clear(status: PanelStatus): void {
    this.view = null;
    this.synced = { view: null, events: null, eventCount: 0, rejected: 0 };
    this.textEpoch++;
    this.text = null;
    this.textLength = 0;
    this.events = [];
    this.rejected = [];
    this.percent = 0;
    this.pieces = 0;
    this.usage = null;
    this.message = '';
    this.error = null;
    this.durationMs = 0;
    this.truncated = null;
    this.liveSince = null;
    this.status = status;
  }

  /** Copies what changed in the view; a queued panel keeps showing "queued". */
  sync(): void {
    const view = this.view;
    if (!view) return;
    const fresh = this.synced.view !== view;
    if (fresh) {
      this.synced = { view, events: null, eventCount: -1, rejected: -1 };
      this.textEpoch++;
    }
    this.text = view.textLog;
    this.textLength = view.textLog.length;
    if (this.synced.events !== view.events || this.synced.eventCount !== view.events.length) {
      this.events = view.events.slice();
      this.synced.events = view.events;
      this.synced.eventCount = view.events.length;
    }
    if (this.synced.rejected !== view.rejected.length) {
      this.rejected = view.rejected.slice();
      this.synced.rejected = view.rejected.length;
    }
    this.percent = view.percent;
    this.pieces = view.pieces;
    if (this.usage !== view.usage) this.usage = view.usage;
    this.message = view.message;
    if (this.error !== view.error) this.error = view.error;
    this.durationMs = view.durationMs;
    if (this.truncated !== view.truncated) this.truncated = view.truncated;
    if (this.status === 'queued') return;
    const next = view.lastSeq === 0 && this.status === 'attaching' ? 'attaching' : view.status;
    if (isLive(next) && this.liveSince === null) this.liveSince = Date.now();
    if (!isLive(next)) this.liveSince = null;
    this.status = next;
  }

  /** Elapsed run time at `now`: finished attempts plus the live one. */
  elapsed(now: number): number {
    return (
      this.durationMs +
      (this.liveSince !== null && isLive(this.status) ? Math.max(0, now - this.liveSince) : 0)
    );
  }

  get label(): string {
    return this.name ? `${this.name} · ${this.userId}` : this.userId;
  }
}
