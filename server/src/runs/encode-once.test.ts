import { expect, it } from 'vitest';
import { encodeOnce } from './encode-once.js';

it('encodes a frame once for consecutive watchers and never serves stale bytes for another frame', () => {
  let calls = 0;
  const enc = encodeOnce((json, seq) => {
    calls++;
    return Buffer.from(`${seq}:${json}`);
  });
  const a = '{"type":"llm_chunk","seq":1,"content":"看车"}';
  const b = '{"type":"llm_chunk","seq":2,"content":"试驾"}';
  const first = enc(a, 1);
  expect(enc(a, 1)).toBe(first);
  expect(calls).toBe(1);
  expect(enc(b, 2).toString()).toBe(`2:${b}`);
  // A replaying watcher asking for an older frame in between gets that frame's bytes.
  expect(enc(a, 1).toString()).toBe(`1:${a}`);
  expect(calls).toBe(3);
});
