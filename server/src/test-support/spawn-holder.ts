import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './tethered-process.js';

export interface Holder {
  port: number;
  dir: string;
  /** SIGKILLs the holding process: no exit handler of its own runs. */
  kill(): void;
}

/**
 * Another Node process that calls `fn` of the test-support module `file` (startRedis, startPostgres),
 * reports the server's port and folder, and then idles until killed: to check the server dies with it.
 */
export async function spawnHolder(file: string, fn: string): Promise<Holder> {
  const mod = new URL(`./${file}`, import.meta.url).href;
  const script = `const s = await (await import(${JSON.stringify(mod)})).${fn}();
console.log(JSON.stringify({ port: s.port, dir: s.dir }));
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const first = new Promise<{ port: number; dir: string }>((ok, fail) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const line = /^\{.*\}$/m.exec(out);
      if (line) ok(JSON.parse(line[0]) as { port: number; dir: string });
    });
    child.once('exit', (code) => fail(new Error(`holder exited (${code}):\n${out}`)));
  });
  try {
    const { port, dir } = await within(first, 20_000, `the holder of ${fn}`);
    return { port, dir, kill: () => child.kill('SIGKILL') };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
