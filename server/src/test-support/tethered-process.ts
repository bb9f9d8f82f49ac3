import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * Runs "$@" until the parent writes a line to our stdin or goes away (EOF, even after a SIGKILL), then
 * stops it with $2, escalating to QUIT after 10 s and KILL after 15 s. When the parent went away it
 * also removes the folder $1, since nobody else will. The parent writes `stop` to stop it, `exited`
 * once the command ended by itself.
 */
const TETHER = `
dir=$1 sig=$2
shift 2
exec 3<&0
"$@" </dev/null 3<&- &
child=$!
{
  read -r cmd <&3 || cmd=orphaned
  [ "$cmd" = exited ] && exit 0
  kill -s "$sig" "$child" 2>/dev/null
  n=0
  while kill -0 "$child" 2>/dev/null; do
    n=$((n + 1))
    [ "$n" -eq 100 ] && kill -s QUIT "$child" 2>/dev/null
    [ "$n" -eq 150 ] && kill -s KILL "$child" 2>/dev/null
    sleep 0.1
  done
  [ "$cmd" = orphaned ] && [ -n "$dir" ] && rm -rf "$dir"
} >/dev/null 2>&1 &
wait "$child"
`;

export interface TetherOptions {
  /** Shown in errors ("redis-server did not start…"). */
  name: string;
  command: string;
  args: string[];
  /** Run as this user through `runuser` (PostgreSQL refuses root). */
  runAs?: string;
  cwd?: string;
  /** Signal that asks the command to shut down cleanly. */
  stopSignal: 'TERM' | 'INT';
  /** Removed if the test process dies without stopping the command. */
  orphanDir?: string;
  /** Output that means the command is ready; start() resolves on it. */
  ready: RegExp;
  readyMs?: number;
}

export interface TetheredProcess {
  readonly pid: number;
  /** Resolves with the exit code (null after a signal) once the command ended. */
  readonly exited: Promise<number | null>;
  /** The last 64 KiB the command wrote to stdout and stderr. */
  output(): string;
  /** Stops the command with its stop signal (escalating) and waits until it has exited. */
  stop(ms?: number): Promise<void>;
}

const TAIL = 64 * 1024;

/**
 * Starts a server process that dies with this process, and resolves once its output matches
 * `ready`; rejects (with the output) when it exits first or is not ready within `readyMs`.
 */
export async function spawnTethered(o: TetherOptions): Promise<TetheredProcess> {
  const sh = ['sh', '-c', TETHER, 'tether', o.orphanDir ?? '', o.stopSignal, o.command, ...o.args];
  const [cmd, ...args] = o.runAs ? ['runuser', '-u', o.runAs, '--', ...sh] : sh;
  const child = spawn(cmd!, args, { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  // Nothing here keeps the test process alive; if it exits, the closed stdin stops the command.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref(): void }).unref();
  child.stdin.on('error', () => undefined);

  let out = '';
  let onOutput = (): void => undefined;
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-TAIL);
    onOutput();
  };
  (child.stdout as Readable).on('data', keep);
  (child.stderr as Readable).on('data', keep);
  const exited = new Promise<number | null>((ok) =>
    child.once('exit', (code) => {
      child.stdin.end('exited\n');
      ok(code);
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const spawned = new Promise<void>((ok, fail) => {
    child.once('spawn', ok);
    child.once('error', fail);
  });

  const stop = async (ms = 20_000) => {
    if (!done) child.stdin.write('stop\n');
    await within(exited, ms, `${o.name} to exit`);
  };

  await spawned;
  const ready = new Promise<void>((ok, fail) => {
    onOutput = () => {
      if (o.ready.test(out)) ok();
    };
    onOutput();
    // A moment for the last output to arrive: it says why.
    void exited.then((code) =>
      setTimeout(() => fail(new Error(`${o.name} exited (${code}) before it was ready:\n${out}`)), 100),
    );
  });
  try {
    await within(ready, o.readyMs ?? 15_000, `${o.name} to be ready`);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  onOutput = () => undefined;
  return { pid: child.pid!, exited, output: () => out, stop };
}

/** `p`, or a rejection naming what was awaited after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, fail) => {
      t = setTimeout(() => fail(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
