import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FollowReader } from '../../runs/ownership.js';
import { startRedis, type RedisServer } from '../../test-support/redis-server.js';
import { RedisJournal, streamKey } from './redis-journal.js';
import { StreamTail } from './stream-tail.js';

let server: RedisServer;
let redis: Redis;
let journal: RedisJournal;
const quiet = { warn() {} };

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  journal = new RedisJournal(redis);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const frame = (seq: number) => `{"type":"llm_chunk","seq":${seq},"content":"看车${seq}"}`;
const append = (runId: string, ...seqs: number[]) =>
  journal.append(seqs.map((seq) => ({ runId, seq, json: frame(seq) })));

/** A view as RemoteRun keeps one: takes only frames that continue it. */
class Reader implements FollowReader {
  got: string[] = [];
  gaps = 0;
  paused = false;
  get cursor() {
    return this.got.length;
  }
  frames(first: number, json: string[]) {
    if (first === this.got.length + 1) this.got.push(...json);
  }
  gap() {
    this.gaps++;
  }
}

const seqs = (n: number) => Array.from({ length: n }, (_, i) => frame(i + 1));
const until = (check: () => void) => vi.waitFor(check, { timeout: 5000, interval: 10 });

describe('StreamTail', () => {
  it('gives a follower the frames already there, then every announced append once, in order, without reading the stream again', async () => {
    const tail = new StreamTail(redis, quiet);
    try {
      await append('run_t1', 1, 2, 3);
      const r = new Reader();
      tail.follow('run_t1', r);
      await until(() => expect(r.got).toEqual(seqs(3)));
      for (let s = 4; s <= 40; s += 2) await append('run_t1', s, s + 1);
      // A retried append announces frames the reader has: they are not handed over twice.
      await append('run_t1', 41, 42);
      await append('run_t1', 42, 43);
      await until(() => expect(r.got).toEqual(seqs(43)));
      expect(tail.reads).toBe(1);
      expect(r.gaps).toBe(0);
    } finally {
      await tail.close();
    }
  });

  it('reads what was appended while its connection was down, once the connection is back', async () => {
    const tail = new StreamTail(redis, quiet);
    try {
      const r = new Reader();
      tail.follow('run_t2', r);
      await append('run_t2', 1);
      await until(() => expect(r.got).toEqual(seqs(1)));
      await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await append('run_t2', 2, 3);
      await until(() => expect(r.got).toEqual(seqs(3)));
      await append('run_t2', 4);
      await until(() => expect(r.got).toEqual(seqs(4)));
    } finally {
      await tail.close();
    }
  });

  it('catches a paused reader up with what passed meanwhile, even when nothing more comes', async () => {
    const tail = new StreamTail(redis, quiet);
    try {
      const r = new Reader();
      tail.follow('run_t3', r);
      await append('run_t3', 1);
      await until(() => expect(r.got).toEqual(seqs(1)));
      r.paused = true;
      await append('run_t3', 2, 3);
      await new Promise((ok) => setTimeout(ok, 100));
      expect(r.got).toHaveLength(1);
      r.paused = false;
      await until(() => expect(r.got).toEqual(seqs(3)));
    } finally {
      await tail.close();
    }
  });

  it('reports a gap when the stream lost frames the reader has not had', async () => {
    const tail = new StreamTail(redis, quiet);
    try {
      const r = new Reader();
      tail.follow('run_t4', r);
      await append('run_t4', 1);
      await until(() => expect(r.got).toEqual(seqs(1)));
      // Redis lost the stream (restarted), and the owner goes on writing it from seq 5.
      await redis.del(streamKey('run_t4'));
      await append('run_t4', 5, 6);
      await until(() => expect(r.gaps).toBe(1));
      expect(r.got).toEqual(seqs(1));
    } finally {
      await tail.close();
    }
  });
});
