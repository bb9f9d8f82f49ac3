import type { Redis } from 'ioredis';
import type { Journal, JournalEntry } from '../pg/pg-writer.js';

/** The stream of a run's frames: entry id `<seq>-0`, so a cursor is the same number on every instance. */
export const streamKey = (runId: string): string => `es:run:${runId}:log`;
export const entryId = (seq: number): string => `${seq}-0`;
export const seqOfEntry = (id: string): number => Number(id.slice(0, id.indexOf('-')));

/** The channel each append to a run's stream is announced on, with its frames: `<first seq>\n<frame>\n…`. */
export const liveChannel = (runId: string): string => `es:run:${runId}:live`;
export const runOfChannel = (channel: string): string => channel.slice('es:run:'.length, -':live'.length);

/** A message on {@link liveChannel}: frames `first`, `first + 1`, … (frame JSON has no raw newline). */
export function parseLive(text: string): { first: number; frames: string[] } {
  const parts = text.split('\n');
  return { first: Number(parts[0]), frames: parts.slice(1) };
}

/** How long a settled run's stream stays, for watchers still reading it; PostgreSQL holds the log. */
export const SETTLED_STREAM_TTL_MS = 60_000;
/** A stream being written is made persistent again this often (far below {@link SETTLED_STREAM_TTL_MS}). */
const PERSIST_EVERY_MS = 10_000;

/**
 * One call per append, whatever the runs: each run's frames added to its stream (a frame already there is
 * a retried write of the same frame: ids are seqs), then announced on its channel in the same atomic step,
 * so a watcher that hears of a frame can read it from the stream. KEYS: the streams; ARGV per key: count,
 * first seq, persist (1/0), the frames.
 */
const APPEND = `
local a = 1
for i = 1, #KEYS do
  local n, first = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local persist = ARGV[a + 2] == '1'
  a = a + 3
  for j = 0, n - 1 do
    local r = redis.pcall('XADD', KEYS[i], (first + j) .. '-0', 'f', ARGV[a + j])
    if type(r) == 'table' and r.err and not string.find(r.err, 'equal or smaller', 1, true) then return r end
  end
  if persist then redis.call('PERSIST', KEYS[i]) end
  redis.call('PUBLISH', string.sub(KEYS[i], 1, -5) .. ':live', first .. '\\n' .. table.concat(ARGV, '\\n', a, a + n - 1))
  a = a + n
end
return #KEYS
`;

type AppendingRedis = Redis & { esAppend(numKeys: number, ...args: (string | number)[]): Promise<number> };

/**
 * Frames of running runs in Redis Streams, one stream per run. A frame is committed once Redis has it
 * (every instance can read it from then on); the whole log goes to PostgreSQL when the run settles.
 */
export class RedisJournal implements Journal {
  /** When this instance last made each run's stream persistent (performance.now()). */
  private readonly persisted = new Map<string, number>();
  private readonly redis: AppendingRedis;

  constructor(redis: Redis) {
    // EVALSHA, falling back to EVAL when Redis does not know the script (a restart).
    if (!('esAppend' in redis)) redis.defineCommand('esAppend', { lua: APPEND });
    this.redis = redis as AppendingRedis;
  }

  async append(frames: JournalEntry[]): Promise<void> {
    // Runs of consecutive seqs of one run: each is one key in the call (a run may have several).
    const segments = new Map<string, JournalEntry[][]>();
    for (const f of frames) {
      const list = segments.get(f.runId);
      const last = list?.at(-1);
      if (last && last.at(-1)!.seq + 1 === f.seq) last.push(f);
      else if (list) list.push([f]);
      else segments.set(f.runId, [[f]]);
    }
    const now = performance.now();
    const keys: string[] = [];
    const args: (string | number)[] = [];
    const persist: string[] = [];
    for (const [runId, list] of segments) {
      // A run resumed after it settled (here or elsewhere) writes to a stream set to expire: made
      // persistent again well within the expiry, not at every append.
      const p = now - (this.persisted.get(runId) ?? -Infinity) > PERSIST_EVERY_MS;
      if (p) persist.push(runId);
      for (const seg of list) {
        keys.push(streamKey(runId));
        args.push(seg.length, seg[0]!.seq, p ? 1 : 0);
        for (const f of seg) args.push(f.json);
      }
    }
    await this.redis.esAppend(keys.length, ...keys, ...args);
    for (const id of persist) this.persisted.set(id, now);
  }

  /**
   * Creates each run's stream with an entry before its first frame (`0-1`: readers ask from `1-0` on) and
   * makes it persistent: a running run's stream then exists unless Redis lost it.
   */
  async open(runIds: string[]): Promise<void> {
    if (runIds.length === 0) return;
    const p = this.redis.pipeline();
    for (const id of runIds) p.xadd(streamKey(id), '0-1', 'f', '').persist(streamKey(id));
    const results = (await p.exec()) ?? [];
    for (const [err] of results) {
      // The stream has entries already (a run going on again): it exists, which is all that is asked.
      if (err && !/equal or smaller/.test(err.message)) throw err;
    }
    const now = performance.now();
    for (const id of runIds) this.persisted.set(id, now);
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
