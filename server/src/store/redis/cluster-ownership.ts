import type { Redis } from 'ioredis';
import type { FollowReader, Ownership, OwnershipHandlers } from '../../runs/ownership.js';
import { ClusterBus } from './cluster-bus.js';
import { streamKey } from './redis-journal.js';
import { StreamTail } from './stream-tail.js';

/** Cluster mode: a Redis lease per running run decides its owner; cancels and notices go over pub/sub. */
export class ClusterOwnership implements Ownership {
  readonly shared = true;
  readonly bus: ClusterBus;
  readonly tail: StreamTail;

  constructor(
    redis: Redis,
    readonly instanceId: string,
    leaseMs: number,
    log: { warn(obj: object, msg: string): void },
  ) {
    this.bus = new ClusterBus(redis, instanceId, leaseMs);
    this.tail = new StreamTail(redis, log);
  }

  start(h: OwnershipHandlers): Promise<void> {
    return this.bus.start({
      command: (c) => {
        if (c.op === 'cancel') h.cancel(c.runId);
      },
      notice: (n) => {
        if (n.by === this.instanceId) return;
        if (n.op === 'resumed') h.resumedElsewhere(n.runId);
        else h.handedOver(n.runId);
      },
      leaseLost: (runId) => h.lost(runId),
      stateLost: () => h.busLost(),
    });
  }

  async claim(runId: string): Promise<boolean> {
    return this.bus.owns(runId) || this.bus.claim(runId);
  }

  release(runId: string): Promise<void> {
    return this.bus.release(runId);
  }

  holds(runId: string): boolean {
    return this.bus.owns(runId);
  }

  async ownerElsewhere(runId: string): Promise<string | null> {
    const owner = await this.bus.owner(runId);
    return owner === this.instanceId ? null : owner;
  }

  async unowned(runIds: string[]): Promise<string[]> {
    const owners = await this.bus.owners(runIds);
    return runIds.filter((_, i) => owners[i] === null);
  }

  cancelElsewhere(owner: string, runId: string): Promise<void> {
    return this.bus.send(owner, { op: 'cancel', runId, reason: 'client' });
  }

  announce(what: 'resumed' | 'handoff', runId: string): Promise<void> {
    return this.bus.announce({ op: what, runId, by: this.instanceId });
  }

  follow(runId: string, reader: FollowReader): void {
    this.tail.follow(runId, reader);
  }

  unfollow(runId: string): void {
    this.tail.unfollow(runId);
  }

  others(): Promise<string[]> {
    return this.bus.otherInstances();
  }

  /** A running run's stream never expires: gone, or Redis restarted since, means frames were lost. */
  async logIntact(runId: string): Promise<boolean> {
    if (!(await this.bus.mayTakeOver())) return false;
    return (await this.bus.redis.exists(streamKey(runId))) === 1;
  }

  owned(): number {
    return this.bus.ownedCount();
  }

  async close(): Promise<void> {
    await this.tail.close();
    await this.bus.close();
  }
}
