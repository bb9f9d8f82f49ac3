// @ts-check
// Builds what `npm start` runs: the UI (web/build) and the server (server/dist). With --if-stale, a
// target is built only when a hash of its sources differs from the one stamped at its last build.
// Usage: node scripts/build.mjs [--if-stale] [web] [server]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Stamps live with the dependencies: a fresh `npm ci` builds everything once. */
const STAMPS = join(ROOT, 'node_modules/.cache/event-stream');

/**
 * @typedef {object} Target
 * @property {string[]} inputs Files and folders (read recursively), relative to the repository.
 * @property {string} output A file the build writes; when it is missing the target is built.
 * @property {() => Promise<void>} build
 */

/** @type {Record<string, Target>} */
export const TARGETS = {
  web: {
    inputs: ['web', 'shared/src', 'package-lock.json'],
    output: 'web/build/index.html',
    build: async () => {
      const r = spawnSync('npm', ['run', 'build', '-w', 'web'], { cwd: ROOT, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`the web build failed (${r.status ?? r.signal})`);
    },
  },
  server: {
    inputs: [
      'server/src',
      'shared/src',
      'server/package.json',
      'package-lock.json',
      'scripts/build-server.mjs',
    ],
    output: 'server/dist/main.js',
    build: async () => {
      // Imported only to build: loading esbuild costs more than checking the stamp.
      const { buildServer } = await import('./build-server.mjs');
      await buildServer();
    },
  },
};

/** Build output, tests and dependencies change nothing a build makes. */
const SKIPPED = new Set(['node_modules', 'test-support', 'web/build']);
const skipped = (/** @type {string} */ path, /** @type {string} */ name) =>
  name.startsWith('.') || SKIPPED.has(name) || SKIPPED.has(path) || name.endsWith('.test.ts');

/**
 * SHA-256 over the path and content of every input file under `root` (read synchronously: hundreds
 * of small files hash in a few ms that way, far less than awaiting each read).
 * @param {string} root
 * @param {string[]} inputs
 */
export function sourceHash(root, inputs) {
  /** @type {string[]} */
  const files = [];
  /** @param {string} path */
  const walk = (path) => {
    let entries;
    try {
      entries = readdirSync(join(root, path), { withFileTypes: true });
    } catch {
      return files.push(path); // a file (or missing: its absence is hashed too)
    }
    for (const e of entries) {
      const sub = `${path}/${e.name}`;
      if (!skipped(sub, e.name)) walk(sub);
    }
  };
  for (const input of inputs) walk(input);
  files.sort();
  const hash = createHash('sha256');
  for (const f of files) {
    let content;
    try {
      content = readFileSync(join(root, f));
    } catch {
      content = Buffer.from('\0missing');
    }
    hash.update(`${f}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

/**
 * Builds `target` unless `ifStale` and its output is there with the stamp of its current sources.
 * @param {string} name
 * @param {Target} target
 * @param {{ ifStale: boolean, root?: string, stamps?: string, log?: (line: string) => void }} opts
 * @returns {Promise<'built' | 'current'>}
 */
export async function buildTarget(name, target, opts) {
  const { ifStale, root = ROOT, stamps = STAMPS, log = (line) => console.error(line) } = opts;
  // Hashed before building: sources edited during the build leave a stale stamp, so the next start builds.
  const hash = sourceHash(root, target.inputs);
  const stamp = join(stamps, `${name}.sha256`);
  const stamped = await readFile(stamp, 'utf8').catch(() => '');
  if (ifStale && stamped === hash && existsSync(join(root, target.output))) return 'current';
  const t0 = performance.now();
  log(`${name}: ${ifStale ? 'sources changed since the last build, ' : ''}building`);
  await target.build();
  await mkdir(stamps, { recursive: true });
  await writeFile(stamp, hash);
  log(`${name}: built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 'built';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ifStale = args.includes('--if-stale');
  const names = args.filter((a) => !a.startsWith('--'));
  try {
    for (const name of names.length > 0 ? names : Object.keys(TARGETS)) {
      const target = TARGETS[name];
      if (!target)
        throw new Error(`unknown build target ${name}; expected ${Object.keys(TARGETS).join(' or ')}`);
      await buildTarget(name, target, { ifStale });
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
