import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../server/src/test-support/free-port.js';
import { within } from '../server/src/test-support/tethered-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('scripts/cluster-local.sh --check', () => {
  it('serves health, WebSocket and SSE from every instance through nginx, then stops everything', async () => {
    const port = await freePort();
    const child = spawn('bash', ['scripts/cluster-local.sh', '--check'], {
      cwd: ROOT,
      env: { ...process.env, CLUSTER_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await within(
      new Promise<number | null>((ok) => child.once('close', ok)),
      100_000,
      'cluster-local.sh --check',
    ).catch((err: unknown) => {
      // SIGTERM lets the script stop what it started.
      child.kill('SIGTERM');
      throw err;
    });
    expect(code, out).toBe(0);
    expect(out).toMatch(/ok: health through nginx/);
    expect(out).toMatch(/ok: WebSocket through nginx/);
    expect(out).toMatch(/ok: SSE through nginx/);
  }, 120_000);
});
