import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../test-support/redis-server.js';
import { RedisJournal, SETTLED_STREAM_TTL_MS, streamKey } from './redis-journal.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const entry = (runId: string, seq: number) => ({ runId, seq, json: `{"type":"llm_chunk","seq":${seq}}` });

describe('RedisJournal', () => {
  it('keeps a stream while it is written, lets it expire once settled, and keeps it again when resumed', async () => {
    const a = new RedisJournal(redis);
    await a.append([entry('run_j1', 1), entry('run_j1', 2)]);
    expect(await redis.pttl(streamKey('run_j1'))).toBe(-1);
    await a.release(['run_j1']);
    const ttl = await redis.pttl(streamKey('run_j1'));
    expect(ttl).toBeGreaterThan(SETTLED_STREAM_TTL_MS - 5000);
    // Resumed here, or on another instance (a journal of its own): the stream must not expire under it.
    await a.append([entry('run_j1', 3)]);
    expect(await redis.pttl(streamKey('run_j1'))).toBe(-1);
    await a.release(['run_j1']);
    const b = new RedisJournal(redis);
    await b.append([entry('run_j1', 4)]);
    expect(await redis.pttl(streamKey('run_j1'))).toBe(-1);
    expect(await b.framesAfter('run_j1', 0)).toHaveLength(4);
  });

  it('takes a retried append of frames it already has as done, and reads up to a gap only', async () => {
    const j = new RedisJournal(redis);
    await j.append([entry('run_j2', 1), entry('run_j2', 2)]);
    await j.append([entry('run_j2', 2), entry('run_j2', 3)]);
    expect(await j.framesAfter('run_j2', 0)).toHaveLength(3);
    await j.append([entry('run_j2', 5)]);
    expect(await j.framesAfter('run_j2', 1)).toHaveLength(2);
  });
});
