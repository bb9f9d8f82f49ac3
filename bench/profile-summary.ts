/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [top]`: where a `node --cpu-prof` profile spent its
 * time: self time by function, and total (inclusive) time by package / source file of the bench's
 * interest (openai SDK, undici, hono, ws, better-sqlite3, the server's own modules).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 40);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
let total = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  total += us;
  const name = byId.get(id)!.callFrame.functionName;
  if (name === '(idle)' || name === '(program)') idle += us;
}
const busy = total - idle;

const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, '')
    .replace(/.*\/work\/main\//, '');
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

/** Groups a frame's url into a bucket. */
function bucket(url: string): string {
  const u = short(url);
  if (!u) return '(native/gc)';
  if (u.startsWith('node:internal/deps/undici')) return 'undici (fetch)';
  if (u.startsWith('node:internal/webstreams')) return 'web streams';
  if (u.startsWith('node:internal/streams')) return 'node streams';
  if (u.startsWith('node:')) return u.split('/')[0]!.replace(/node:internal\/?.*/, 'node internals');
  const m = /^(@[^/]+\/[^/]+|[^/]+)\//.exec(u);
  if (url.includes('node_modules')) return m?.[1] ?? u;
  return u;
}

const selfByFn = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName;
  if (name === '(idle)' || name === '(program)') continue;
  selfByFn.set(label(n), (selfByFn.get(label(n)) ?? 0) + us);
}

// Self time per bucket: adds up to the busy time, so the shares are a breakdown.
const selfByBucket = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName;
  if (name === '(idle)' || name === '(program)') continue;
  const b =
    name === '(garbage collector)' ? '(gc)' : n.callFrame.url ? bucket(n.callFrame.url) : `(native) ${name}`;
  selfByBucket.set(b, (selfByBucket.get(b) ?? 0) + us);
}

// Inclusive time per bucket: each sample counts once for every distinct bucket on its stack.
const inclByBucket = new Map<string, number>();
p.samples.forEach((id, i) => {
  const n0 = byId.get(id)!;
  if (n0.callFrame.functionName === '(idle)' || n0.callFrame.functionName === '(program)') return;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)!;
    if (n.callFrame.url) seen.add(bucket(n.callFrame.url));
  }
  if (seen.size === 0) seen.add('(native/gc)');
  for (const b of seen) inclByBucket.set(b, (inclByBucket.get(b) ?? 0) + (p.timeDeltas[i] ?? 0));
});

// Inclusive time per function: each sample counts once for every distinct function on its stack.
const inclByFn = new Map<string, number>();
p.samples.forEach((id, i) => {
  const n0 = byId.get(id)!;
  if (n0.callFrame.functionName === '(idle)' || n0.callFrame.functionName === '(program)') return;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)!;
    if (n.callFrame.url) seen.add(label(n));
  }
  for (const k of seen) inclByFn.set(k, (inclByFn.get(k) ?? 0) + (p.timeDeltas[i] ?? 0));
});

const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (shares below are of busy time)`,
);
console.log('\nself time by function');
for (const [k, us] of [...selfByFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(us)}  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
}
console.log('\nself time by package / file (a breakdown: sums to the busy time)');
for (const [k, us] of [...selfByBucket].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(us)}  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
}
console.log('\ninclusive time by package / file');
for (const [k, us] of [...inclByBucket].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(us)}  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
}
if (process.argv.includes('--functions')) {
  console.log('\ninclusive time by function');
  for (const [k, us] of [...inclByFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us)}  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
  }
}
