/** Gets a followed run's new frames. */
export interface FollowReader {
  /** Last seq it has. */
  readonly cursor: number;
  frames(first: number, json: string[]): void;
  /** The stream lost frames it has not had: read them from storage. */
  gap(): void;
  /** While true (reading a gap from storage) the stream is not read for it. */
  readonly paused?: boolean;
}

/** What other instances ask of this one, and tell it. */
export interface OwnershipHandlers {
  /** Cancel a run this instance generates. */
  cancel(runId: string): void;
  /** Another instance resumed a run (a settled copy held here is out of date). */
  resumedElsewhere(runId: string): void;
  /** An instance handed a run over (its shutdown): take it if you can. */
  handedOver(runId: string): void;
  /** This instance lost a run's lease (it was too slow to renew it): stop generating it. */
  lost(runId: string): void;
  /** The bus lost its state (Redis restarted empty): runs generating here cannot go on safely. */
  busLost(): void;
}

/**
 * Which instance generates which run. Embedded, this one always does; in cluster mode a lease per run
 * decides, and commands and frames travel between instances. The run manager asks only this.
 */
export interface Ownership {
  readonly instanceId: string;
  /** Runs are shared with other instances. */
  readonly shared: boolean;
  start(handlers: OwnershipHandlers): Promise<void>;
  /** Takes the run for this instance; false when another instance has it. */
  claim(runId: string): Promise<boolean>;
  /** The run no longer generates here. */
  release(runId: string): Promise<void>;
  /** The instance generating the run now, when that is not this one; null when none is. */
  ownerElsewhere(runId: string): Promise<string | null>;
  /** Those of these runs that no instance generates (their owner died, or they settled meanwhile). */
  unowned(runIds: string[]): Promise<string[]>;
  /** Asks the owner of a run to cancel it. */
  cancelElsewhere(owner: string, runId: string): Promise<void>;
  /** Says that this instance resumed, or handed over, a run. */
  announce(what: 'resumed' | 'handoff', runId: string): Promise<void>;
  /** Follows a run another instance generates: its new frames go to `reader`. */
  follow(runId: string, reader: FollowReader): void;
  unfollow(runId: string): void;
  /** Other instances alive now. */
  others(): Promise<string[]>;
  /** Every frame of the running run is still where other instances read it. */
  logIntact(runId: string): Promise<boolean>;
  /** This instance holds the run's lease (it generates it, or is storing its settle). */
  holds(runId: string): boolean;
  /** Runs this instance holds the lease of. */
  owned(): number;
  close(): Promise<void>;
}

/** Embedded mode: one process owns every run. */
export class LocalOwnership implements Ownership {
  readonly instanceId: string;
  readonly shared = false;
  private readonly held = new Set<string>();

  constructor(instanceId: string) {
    this.instanceId = instanceId;
  }

  async start(): Promise<void> {}
  async claim(runId: string): Promise<boolean> {
    this.held.add(runId);
    return true;
  }
  async release(runId: string): Promise<void> {
    this.held.delete(runId);
  }
  async ownerElsewhere(): Promise<string | null> {
    return null;
  }
  async unowned(runIds: string[]): Promise<string[]> {
    return runIds.filter((id) => !this.held.has(id));
  }
  async cancelElsewhere(): Promise<void> {}
  async announce(): Promise<void> {}
  follow(): void {}
  unfollow(): void {}
  async others(): Promise<string[]> {
    return [];
  }
  async logIntact(): Promise<boolean> {
    return true;
  }
  holds(runId: string): boolean {
    return this.held.has(runId);
  }
  owned(): number {
    return this.held.size;
  }
  async close(): Promise<void> {}
}
