import { Redis } from 'ioredis';

const leaseKey = (runId: string): string => `es:lease:${runId}`;
const instanceKey = (id: string): string => `es:instance:${id}`;
const commandChannel = (id: string): string => `es:cmd:${id}`;
const NOTICES = 'es:notice';
/** Set once per Redis data set: a different (or no) value means Redis lost everything since. */
const EPOCH = 'es:epoch';

// Compare-and-set on the lease: only its holder renews or drops it.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const DROP = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A message to the instance that owns a run. */
export type Command = { op: 'cancel'; runId: string; reason: 'client' };
/** Said to every instance. */
export type Notice =
  { op: 'resumed'; runId: string; by: string } | { op: 'handoff'; runId: string; by: string };

export interface BusHandlers {
  command(c: Command): void;
  notice(n: Notice): void;
  /** This instance no longer holds the lease of a run it runs (it expired and another took it). */
  leaseLost(runId: string): void;
  /** Redis lost its data (restarted without persistence, or flushed): every lease and stream is gone. */
  stateLost(): void;
}

export interface BusCounters {
  leaseRenewalsFailed: number;
}

/**
 * Run ownership and commands between instances, on Redis: a lease per running run (`SET NX PX`, renewed
 * by its owner), a command channel per instance (cancel reaches the owner), notices to all, and a
 * liveness key per instance.
 */
export class ClusterBus {
  readonly counters: BusCounters = { leaseRenewalsFailed: 0 };
  private readonly sub: Redis;
  private readonly owned = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private handlers: BusHandlers | null = null;
  private closed = false;
  private epoch: string | null = null;
  private checking: Promise<boolean> | null = null;
  /** A renewal is under way (a slow Redis must not stack them). */
  private renewing = false;
  /** Until then no run is taken over: owners are still ending the runs Redis lost the state of. */
  private quietUntil = 0;

  constructor(
    readonly redis: Redis,
    readonly instanceId: string,
    readonly leaseMs: number,
  ) {
    this.sub = redis.duplicate();
    this.sub.on('error', () => {});
    this.sub.on('message', (channel: string, text: string) => this.received(channel, text));
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  async start(handlers: BusHandlers): Promise<void> {
    this.handlers = handlers;
    await this.sub.subscribe(commandChannel(this.instanceId), NOTICES);
    this.epoch = await this.currentEpoch();
    await this.redis.set(instanceKey(this.instanceId), String(Date.now()), 'PX', this.leaseMs);
  }

  /** Takes the lease of a run: true when this instance now owns it. */
  async claim(runId: string): Promise<boolean> {
    const ok = await this.redis.set(leaseKey(runId), this.instanceId, 'PX', this.leaseMs, 'NX');
    if (ok === 'OK') this.owned.add(runId);
    return ok === 'OK';
  }

  async release(runId: string): Promise<void> {
    this.owned.delete(runId);
    await this.redis.eval(DROP, 1, leaseKey(runId), this.instanceId);
  }

  /** The instance holding the run's lease, or null when nobody does (settled, or its owner died). */
  owner(runId: string): Promise<string | null> {
    return this.redis.get(leaseKey(runId));
  }

  /** The lease holder of each run, in one round trip per thousand runs. */
  async owners(runIds: string[]): Promise<(string | null)[]> {
    const out: (string | null)[] = [];
    for (let i = 0; i < runIds.length; i += 1000)
      out.push(...(await this.redis.mget(runIds.slice(i, i + 1000).map(leaseKey))));
    return out;
  }

  owns(runId: string): boolean {
    return this.owned.has(runId);
  }

  ownedCount(): number {
    return this.owned.size;
  }

  /** Other instances alive now (their liveness key not expired). */
  async otherInstances(): Promise<string[]> {
    const keys = await this.redis.keys('es:instance:*');
    return keys.map((k) => k.slice('es:instance:'.length)).filter((id) => id !== this.instanceId);
  }

  async send(to: string, c: Command): Promise<void> {
    await this.redis.publish(commandChannel(to), JSON.stringify(c));
  }

  async announce(n: Notice): Promise<void> {
    await this.redis.publish(NOTICES, JSON.stringify(n));
  }

  private received(channel: string, text: string): void {
    if (!this.handlers) return;
    try {
      const msg = JSON.parse(text) as Command | Notice;
      if (channel === NOTICES) this.handlers.notice(msg as Notice);
      else this.handlers.command(msg as Command);
    } catch {
      // Not ours: ignore.
    }
  }

  /**
   * Whether Redis still holds the state this instance joined; when not, every run generating here ends
   * (`stateLost`) and no run is taken over for three lease lengths, while owners end theirs.
   */
  stateKept(): Promise<boolean> {
    // One check at a time: the renewal and a takeover asking together must not both declare a loss.
    this.checking ??= this.checkState().finally(() => (this.checking = null));
    return this.checking;
  }

  private async checkState(): Promise<boolean> {
    if ((await this.redis.get(EPOCH)) === this.epoch) return true;
    this.owned.clear();
    this.quietUntil = performance.now() + 3 * this.leaseMs;
    this.epoch = await this.currentEpoch();
    this.handlers?.stateLost();
    return false;
  }

  /** Runs whose owner is gone may be taken over: Redis kept its state, and owners had time to end theirs. */
  async mayTakeOver(): Promise<boolean> {
    return (await this.stateKept()) && performance.now() >= this.quietUntil;
  }

  private async currentEpoch(): Promise<string> {
    await this.redis.set(EPOCH, `${Date.now()}-${Math.random().toString(36).slice(2)}`, 'NX');
    return (await this.redis.get(EPOCH))!;
  }

  private async renew(): Promise<void> {
    if (this.closed || this.epoch === null || this.renewing) return;
    this.renewing = true;
    try {
      if (!(await this.stateKept())) return;
      const p = this.redis.pipeline();
      p.set(instanceKey(this.instanceId), String(Date.now()), 'PX', this.leaseMs);
      const ids = [...this.owned];
      for (const id of ids) p.eval(RENEW, 1, leaseKey(id), this.instanceId, this.leaseMs);
      const results = (await p.exec()) ?? [];
      const lost: string[] = [];
      ids.forEach((id, i) => {
        const [err, kept] = results[i + 1] ?? [];
        if (!err && kept === 1) return;
        this.counters.leaseRenewalsFailed++;
        if (!err) lost.push(id);
      });
      // A lease gone with all of Redis's data is a restart (handled as such), not a slow renewal.
      if (lost.length > 0 && (await this.stateKept())) {
        for (const id of lost) {
          // Expired and maybe taken: this instance must stop writing the run.
          this.owned.delete(id);
          this.handlers?.leaseLost(id);
        }
      }
    } catch {
      this.counters.leaseRenewalsFailed += this.owned.size;
    } finally {
      this.renewing = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.redis.del(instanceKey(this.instanceId)).catch(() => {});
    this.sub.disconnect();
  }
}

export const connectRedis = (url: string): Redis =>
  new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
