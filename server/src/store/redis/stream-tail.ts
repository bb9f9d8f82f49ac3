import type { Redis } from 'ioredis';
import type { FollowReader } from '../../runs/ownership.js';
import { entryId, seqOfEntry, streamKey } from './redis-journal.js';

/** Gets the frames after its cursor; a gap (a stream Redis lost) is reported, never skipped. */
type TailReader = FollowReader;

/**
 * One blocking XREAD per instance over the streams of every run watched here but owned elsewhere: each
 * frame is read once and fanned out to all local watchers by its run's view. A new run to follow
 * unblocks the read at once (`CLIENT UNBLOCK`), so it joins without waiting out the block.
 */
export class StreamTail {
  private readonly readers = new Map<string, TailReader>();
  private readonly conn: Redis;
  private connId: number | null = null;
  private wake: (() => void) | null = null;
  private stopped = false;
  private readonly loop: Promise<void>;
  reads = 0;

  constructor(
    private readonly redis: Redis,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {
    this.conn = redis.duplicate();
    this.conn.on('error', () => {});
    this.loop = this.run();
  }

  follow(runId: string, reader: TailReader): void {
    this.readers.set(runId, reader);
    this.interrupt();
  }

  unfollow(runId: string): void {
    this.readers.delete(runId);
  }

  following(): number {
    return this.readers.size;
  }

  private interrupt(): void {
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    } else if (this.connId !== null) {
      this.redis.client('UNBLOCK', this.connId).catch(() => {});
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.readers.size === 0) {
        await new Promise<void>((ok) => (this.wake = ok));
        continue;
      }
      try {
        this.connId ??= (await this.conn.client('ID')) as number;
        const ids = [...this.readers.keys()].filter((id) => !this.readers.get(id)!.paused);
        // Readers filling a gap from storage join again once they have: look again shortly.
        const block = ids.length < this.readers.size ? 250 : 5000;
        if (ids.length === 0) {
          await new Promise((ok) => setTimeout(ok, block));
          continue;
        }
        const keys = ids.map(streamKey);
        const after = ids.map((id) => entryId(this.readers.get(id)!.cursor));
        const res = (await this.conn.xread('COUNT', 1000, 'BLOCK', block, 'STREAMS', ...keys, ...after)) as
          [string, [string, string[]][]][] | null;
        this.reads++;
        if (!res) continue;
        for (const [key, entries] of res) {
          const runId = ids[keys.indexOf(key)]!;
          const reader = this.readers.get(runId);
          if (!reader || entries.length === 0) continue;
          const first = seqOfEntry(entries[0]![0]);
          if (first !== reader.cursor + 1) {
            reader.gap();
            continue;
          }
          reader.frames(
            first,
            entries.map(([, fields]) => fields[1]!),
          );
        }
      } catch (err) {
        if (this.stopped) return;
        this.connId = null;
        this.log.warn({ err }, 'reading run streams failed; retrying');
        await new Promise((ok) => setTimeout(ok, 250));
      }
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.interrupt();
    this.conn.disconnect();
    await this.loop.catch(() => {});
  }
}
