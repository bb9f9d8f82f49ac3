import type { Redis } from 'ioredis';
import type { FollowReader } from '../../runs/ownership.js';
import { entryId, liveChannel, parseLive, runOfChannel, seqOfEntry, streamKey } from './redis-journal.js';

/** How often readers that let messages pass (paused, filling a gap from storage) are caught up. */
const CATCH_UP_MS = 250;

/**
 * The live frames of runs watched here but generated elsewhere. Each followed run's channel is subscribed
 * on one connection: its owner announces every append there, with the frames, atomically with adding them
 * to the run's stream. A message that continues a reader's cursor is handed over as it is (no command per
 * frame); one that does not (the follow itself, a reconnect, a reader that was paused) makes the tail read
 * the stream from the cursor (XRANGE), so each reader gets every frame once, in order. Each frame reaches
 * this instance once and is fanned out to all local watchers by its run's view.
 */
export class StreamTail {
  private readonly readers = new Map<string, FollowReader>();
  private readonly sub: Redis;
  /** Readers whose stream is being read now; a set value means read again once it returns. */
  private readonly reading = new Map<string, boolean>();
  /** Readers that let a message pass: read once they may. */
  private readonly behind = new Set<string>();
  /** The last seq announced of each followed run: a stream read that ends before it found a gap. */
  private readonly heard = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  /** Stream reads (XRANGE), for /metrics. */
  reads = 0;

  constructor(
    private readonly redis: Redis,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {
    this.sub = redis.duplicate();
    this.sub.on('error', () => {});
    this.sub.on('message', (channel: string, text: string) => this.message(runOfChannel(channel), text));
    // After a reconnect messages may have been missed: read every stream once the client has subscribed
    // again (it does on ready), at the next catch-up.
    let connected = false;
    this.sub.on('ready', () => {
      if (connected) for (const id of this.readers.keys()) this.behind.add(id);
      connected = true;
    });
    this.timer = setInterval(() => this.catchUp(), CATCH_UP_MS);
    this.timer.unref();
  }

  follow(runId: string, reader: FollowReader): void {
    this.readers.set(runId, reader);
    // Frames appended before the subscription took effect come from the stream.
    this.sub.subscribe(liveChannel(runId)).then(
      () => this.pull(runId),
      (err: unknown) => {
        if (this.stopped || this.readers.get(runId) !== reader) return;
        this.log.warn({ err, runId }, 'following a run failed; retrying');
        setTimeout(() => {
          if (this.readers.get(runId) === reader) this.follow(runId, reader);
        }, CATCH_UP_MS).unref();
      },
    );
  }

  unfollow(runId: string): void {
    if (!this.readers.delete(runId)) return;
    this.behind.delete(runId);
    this.heard.delete(runId);
    this.sub.unsubscribe(liveChannel(runId)).catch(() => {});
  }

  following(): number {
    return this.readers.size;
  }

  private message(runId: string, text: string): void {
    const reader = this.readers.get(runId);
    if (!reader) return;
    const { first, frames } = parseLive(text);
    this.heard.set(runId, Math.max(this.heard.get(runId) ?? 0, first + frames.length - 1));
    if (reader.paused) {
      this.behind.add(runId);
      return;
    }
    // A read under way may end before these: it reads again when it returns.
    if (this.reading.has(runId)) return this.pull(runId);
    const skip = reader.cursor + 1 - first;
    if (skip < 0) return this.pull(runId);
    if (skip < frames.length) reader.frames(reader.cursor + 1, skip === 0 ? frames : frames.slice(skip));
  }

  /** Reads the reader's stream after its cursor; a gap (Redis lost frames) is reported, never skipped. */
  private pull(runId: string): void {
    if (this.reading.has(runId)) {
      this.reading.set(runId, true);
      return;
    }
    const reader = this.readers.get(runId);
    if (!reader || this.stopped) return;
    if (reader.paused) {
      this.behind.add(runId);
      return;
    }
    this.behind.delete(runId);
    this.reading.set(runId, false);
    const after = reader.cursor;
    this.reads++;
    this.redis
      .xrange(streamKey(runId), entryId(after + 1), '+')
      .then(
        (entries) => {
          if (this.readers.get(runId) !== reader || reader.cursor !== after) return;
          // Frames were announced that the stream no longer has from the cursor on (Redis lost them).
          if (entries.length === 0) {
            if ((this.heard.get(runId) ?? 0) > after) reader.gap();
            return;
          }
          if (seqOfEntry(entries[0]![0]) !== after + 1) return reader.gap();
          const frames: string[] = [];
          for (const [id, fields] of entries) {
            if (seqOfEntry(id) !== after + frames.length + 1) break;
            frames.push(fields[1]!);
          }
          reader.frames(after + 1, frames);
        },
        (err: unknown) => {
          if (this.stopped) return;
          this.log.warn({ err, runId }, 'reading a run stream failed; retrying');
          this.behind.add(runId);
        },
      )
      .finally(() => {
        const again = this.reading.get(runId);
        this.reading.delete(runId);
        if (again) this.pull(runId);
      });
  }

  private catchUp(): void {
    for (const id of [...this.behind]) {
      if (!this.readers.get(id)?.paused) this.pull(id);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.sub.disconnect();
  }
}
