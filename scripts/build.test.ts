import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../server/src/start-server.js';
import { spawnServer, type ServerProcess } from '../server/src/test-support/server-process.js';
import { readSse } from '../server/src/test-support/sse-client.js';
import { deadline } from '../server/src/test-support/test-server.js';
import { buildServer } from './build-server.mjs';
import { buildTarget, sourceHash } from './build.mjs';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A folder with `files` (path → content) in it. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'es-build-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) write(root, path, content);
  return root;
}

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

describe('sourceHash', () => {
  const inputs = ['web', 'src', 'lock.json'];
  const root = tree({
    'web/src/app.svelte': '<p>一</p>',
    'web/build/index.html': 'built',
    'web/.svelte-kit/x.js': 'generated',
    'src/a.ts': 'export const a = 1;',
    'src/a.test.ts': 'test',
    'src/node_modules/x/index.js': 'dep',
    'lock.json': '{}',
  });
  const before = sourceHash(root, inputs);

  it('changes with a source file and back', () => {
    write(root, 'src/a.ts', 'export const a = 2;');
    expect(sourceHash(root, inputs)).not.toBe(before);
    write(root, 'src/a.ts', 'export const a = 1;');
    expect(sourceHash(root, inputs)).toBe(before);
  });

  it('ignores tests, build output, generated files and dependencies', () => {
    write(root, 'src/a.test.ts', 'another test');
    write(root, 'web/build/index.html', 'built again');
    write(root, 'web/.svelte-kit/x.js', 'generated again');
    write(root, 'src/node_modules/x/index.js', 'dep 2');
    expect(sourceHash(root, inputs)).toBe(before);
  });

  it('changes when a file is added, renamed or missing', () => {
    write(root, 'web/src/new.ts', '');
    expect(sourceHash(root, inputs)).not.toBe(before);
    unlinkSync(join(root, 'web/src/new.ts'));
    expect(sourceHash(root, inputs)).toBe(before);
    unlinkSync(join(root, 'lock.json'));
    expect(sourceHash(root, inputs)).not.toBe(before);
    write(root, 'lock.json', '{}');
  });
});

describe('buildTarget', () => {
  it('with --if-stale builds only when the sources changed since the last build or the output is gone', async () => {
    const root = tree({ 'src/a.ts': '1' });
    const stamps = join(root, 'stamps');
    let builds = 0;
    const target = {
      inputs: ['src'],
      output: 'out/main.js',
      build: async () => {
        builds++;
        write(root, 'out/main.js', 'x');
      },
    };
    const opts = { ifStale: true, root, stamps, log: () => undefined };
    expect(await buildTarget('t', target, opts)).toBe('built');
    expect(await buildTarget('t', target, opts)).toBe('current');
    write(root, 'src/a.ts', '2');
    expect(await buildTarget('t', target, opts)).toBe('built');
    expect(await buildTarget('t', target, opts)).toBe('current');
    unlinkSync(join(root, 'out/main.js'));
    expect(await buildTarget('t', target, opts)).toBe('built');
    expect(await buildTarget('t', target, { ...opts, ifStale: false })).toBe('built');
    expect(builds).toBe(4);
  });

  it('leaves no stamp when the build fails, so the next start builds again', async () => {
    const root = tree({ 'src/a.ts': '1' });
    const stamps = join(root, 'stamps');
    const failing = {
      inputs: ['src'],
      output: 'out/main.js',
      build: async () => {
        write(root, 'out/main.js', 'half');
        throw new Error('syntax error');
      },
    };
    const opts = { ifStale: true, root, stamps, log: () => undefined };
    await expect(buildTarget('t', failing, opts)).rejects.toThrow('syntax error');
    expect(existsSync(join(stamps, 't.sha256'))).toBe(false);
  });
});

describe('the built server', () => {
  let proc: ServerProcess | undefined;
  afterEach(() => proc?.dispose());

  it('runs with plain node: serves a run to its end, loads its workers, exits 0 on SIGTERM', async () => {
    // Inside the repository, where node_modules is found; out of git's and the linters' way.
    const out = join(REPO_ROOT, 'node_modules/.cache/event-stream', `test-dist-${process.pid}`);
    dirs.push(out);
    const { beside } = await buildServer(out);
    expect(beside).toContain('checkpoint-worker.mjs');
    for (const f of beside) expect(existsSync(join(out, f)), f).toBe(true);

    proc = await spawnServer(
      { BUILTIN_PIECES_PER_SECOND: '2000', BUILTIN_FIRST_PIECE_MS: '0', DB_CHECKPOINT_MS: '20' },
      { entry: join(out, 'main.js') },
    );
    const read = await readSse(`${proc.url}/api/v1/events/extract/user_0007/llm-stream`, {
      method: 'POST',
      timeoutMs: 10_000,
    });
    expect(read.frames.at(-1)?.frame.type).toBe('done');
    proc.signalGroup('SIGTERM');
    expect(await deadline(proc.exited, 10_000, 'the server to exit')).toEqual({ code: 0, signal: null });
    // A worker file missing beside the bundle would have been logged as an error by now.
    expect(proc.output()).not.toMatch(/"level":(50|60)/);
  });
});
