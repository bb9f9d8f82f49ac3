import type { Redis } from 'ioredis';
import type { Journal, JournalEntry } from '../pg/pg-writer.js';

/** The stream of a run's frames: entry id `<seq>-0`, so a cursor is the same number on every instance. */
export const streamKey = (runId: string): string => `es:run:${runId}:log`;
export const entryId = (seq: number): string => `${seq}-0`;
export const seqOfEntry = (id: string): number => Number(id.slice(0, id.indexOf('-')));

/** How long a settled run's stream stays, for watchers still reading it; PostgreSQL holds the log. */
export const SETTLED_STREAM_TTL_MS = 60_000;
/** A stream being written is made persistent again this often (far below {@link SETTLED_STREAM_TTL_MS}). */
const PERSIST_EVERY_MS = 10_000;

/**
 * Frames of running runs in Redis Streams, one stream per run. A frame is committed once Redis has it
 * (every instance can read it from then on); the whole log goes to PostgreSQL when the run settles.
 */
export class RedisJournal implements Journal {
  /** When this instance last made each run's stream persistent (performance.now()). */
  private readonly persisted = new Map<string, number>();

  constructor(private readonly redis: Redis) {}

  async append(frames: JournalEntry[]): Promise<void> {
    const p = this.redis.pipeline();
    const now = performance.now();
    const persist = new Set<string>();
    for (const f of frames) {
      p.xadd(streamKey(f.runId), entryId(f.seq), 'f', f.json);
      if (now - (this.persisted.get(f.runId) ?? -Infinity) > PERSIST_EVERY_MS) persist.add(f.runId);
    }
    // A run resumed after it settled (here or elsewhere) writes to a stream set to expire: made persistent
    // again well within the expiry, not at every append.
    for (const id of persist) p.persist(streamKey(id));
    const results = (await p.exec()) ?? [];
    for (const [err] of results) {
      // A retried write finds its frames already there: the ids are the seqs, so that is the same frame.
      if (err && !/equal or smaller/.test(err.message)) throw err;
    }
    for (const id of persist) this.persisted.set(id, now);
  }

  async release(runIds: string[]): Promise<void> {
    for (const id of runIds) this.persisted.delete(id);
    const p = this.redis.pipeline();
    for (const id of runIds) p.pexpire(streamKey(id), SETTLED_STREAM_TTL_MS);
    await p.exec();
  }

  /** Frames with seq > after, in order, as far as they run without a gap. */
  async framesAfter(runId: string, after: number): Promise<string[]> {
    const entries = await this.redis.xrange(streamKey(runId), entryId(after + 1), '+');
    const out: string[] = [];
    for (const [id, fields] of entries) {
      if (seqOfEntry(id) !== after + out.length + 1) break;
      out.push(fields[1]!);
    }
    return out;
  }
}
