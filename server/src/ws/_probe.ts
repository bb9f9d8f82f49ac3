import { startTestServer } from '../test-support/test-server.js';
import { readSse } from '../test-support/sse-client.js';
const s = await startTestServer({ BUILTIN_PIECES_PER_SECOND: 0, BUILTIN_FIRST_PIECE_MS: 0 });
const users = (await (await fetch(`${s.url}/api/v1/users?limit=100`)).json()) as any;
console.log(Object.keys(users), users.items?.length);
for (const u of users.items.slice(0, 60)) {
  const t0 = performance.now();
  const r = await readSse(`${s.url}/api/v1/events/extract/${u.id}/llm-stream`, { method: 'POST' });
  console.log(u.id, r.frames.length, r.raw.length, Math.round(performance.now() - t0), r.frames.filter(f=>f.frame.type==='event').length);
}
await s.dispose();
