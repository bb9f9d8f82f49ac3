import type { Redis } from 'ioredis';
import type { Journal, JournalEntry } from '../pg/pg-writer.js';

/** The stream of a run's frames: entry id `<seq>-0`, so a cursor is the same number on every instance. */
export const streamKey = (runId: string): string => `es:run:${runId}:log`;
export const entryId = (seq: number): string => `${seq}-0`;
export const seqOfEntry = (id: string): number => Number(id.slice(0, id.indexOf('-')));

/** How long a settled run's stream stays, for watchers still reading it; PostgreSQL holds the log. */
export const SETTLED_STREAM_TTL_MS = 60_000;

/**
 * Frames of running runs in Redis Streams, one stream per run. A frame is committed once Redis has it
 * (every instance can read it from then on); the whole log goes to PostgreSQL when the run settles.
 */
export class RedisJournal implements Journal {
  constructor(private readonly redis: Redis) {}

  async append(frames: JournalEntry[]): Promise<void> {
    const p = this.redis.pipeline();
    const runs = new Set<string>();
    for (const f of frames) {
      p.xadd(streamKey(f.runId), entryId(f.seq), 'f', f.json);
      runs.add(f.runId);
    }
    // A run resumed soon after it settled writes to a stream that was set to expire.
    for (const id of runs) p.persist(streamKey(id));
    const results = (await p.exec()) ?? [];
    for (const [err] of results) {
      // A retried write finds its frames already there: the ids are the seqs, so that is the same frame.
      if (err && !/equal or smaller/.test(err.message)) throw err;
    }
  }

  async release(runIds: string[]): Promise<void> {
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
