import { spawn } from 'node:child_process';
import { within } from './tethered-process.js';

/** Runs a command to its end; rejects with its output when it fails or takes over `ms`. */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; ms?: number } = {},
): Promise<string> {
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const ended = new Promise<number | null>((ok, fail) => {
    child.once('error', fail);
    child.once('close', ok);
  });
  const what = `${cmd} ${args.join(' ')}`;
  try {
    const code = await within(ended, opts.ms ?? 30_000, what);
    if (code !== 0) throw new Error(`${what} failed (${code}):\n${out}`);
    return out;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
