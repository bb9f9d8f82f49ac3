import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * The clock every bench process shares: CLOCK_MONOTONIC (what process.hrtime reads on Linux) is one
 * clock for the whole machine, so a send time stamped in one process and a receive time stamped in
 * another subtract exactly. Milliseconds, nanosecond resolution.
 */
export const clockMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const CLK_TCK = 100;

/** user + system CPU seconds of a process so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/**
 * CPU seconds of a server that forks (PostgreSQL's backends, a tethered redis-server): every process whose
 * command line contains `mark` (its data folder), their descendants, and the children they reaped.
 */
export function treeCpuSeconds(mark: string): number {
  const procs = new Map<number, { ppid: number; cpu: number }>();
  const roots: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
      procs.set(Number(d), { ppid: Number(f[1]), cpu });
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(mark)) roots.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  let sum = 0;
  for (const pid of seen) sum += procs.get(pid)!.cpu;
  return sum;
}

/** VmRSS and VmHWM (peak) of a process, MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Resets VmHWM to the current RSS, so the next reading is the peak of one phase; false if refused. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Soft and hard limits on open files of this process. */
export function fdLimits(): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(line?.[1]), hard: n(line?.[2]) };
}

/** A bench child process that talks to the orchestrator over IPC. */
export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Sends a command and resolves with the child's reply to it. */
  call<T = unknown>(msg: object, timeoutMs?: number): Promise<T>;
  /** The first message the child sent on start (its address). */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Starts `file` (TypeScript, through the same tsx loader as this process) with IPC and waits for its
 * `{ ready: true, … }` message. `fds` raises the soft open-file limit first (via `sh -c ulimit`).
 */
export async function startChild(
  name: string,
  file: string,
  opts: { env?: Record<string, string>; nodeArgs?: string[]; fds?: number; cwd?: string } = {},
): Promise<Child> {
  const nodeArgs = [...process.execArgv, ...(opts.nodeArgs ?? []), file];
  const env = { ...process.env, ...opts.env };
  // exec keeps the pid: the one we measure is node itself, not the shell.
  const proc = opts.fds
    ? spawn('/bin/sh', ['-c', `ulimit -n ${opts.fds} && exec "$0" "$@"`, process.execPath, ...nodeArgs], {
        env,
        cwd: opts.cwd,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
    : spawn(process.execPath, nodeArgs, {
        env,
        cwd: opts.cwd,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
  let nextId = 1;
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  let exited = false;
  const ready = await new Promise<Record<string, unknown>>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`${name} did not start within 30 s`)), 30_000);
    proc.once('exit', (code) => {
      exited = true;
      clearTimeout(t);
      fail(new Error(`${name} exited with ${code} before it was ready`));
      for (const p of pending.values()) p.fail(new Error(`${name} exited with ${code}`));
    });
    proc.on('message', (m: { ready?: boolean; id?: number; error?: string }) => {
      if (m.ready) {
        clearTimeout(t);
        ok(m as Record<string, unknown>);
        return;
      }
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error) p.fail(new Error(`${name}: ${m.error}`));
      else p.ok(m);
    });
  });
  return {
    name,
    proc,
    pid: proc.pid!,
    ready,
    call<T>(msg: object, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} is not running`));
      const id = nextId++;
      return new Promise<T>((ok, fail) => {
        const t = setTimeout(() => {
          pending.delete(id);
          fail(
            new Error(`${name} did not answer ${JSON.stringify(msg).slice(0, 80)} within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        pending.set(id, {
          ok: (v) => (clearTimeout(t), ok(v as T)),
          fail: (e) => (clearTimeout(t), fail(e)),
        });
        proc.send({ ...msg, id });
      });
    },
    stop: () =>
      new Promise<void>((ok) => {
        if (exited) return ok();
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        proc.once('exit', () => (clearTimeout(kill), ok()));
        proc.kill('SIGTERM');
      }),
  };
}

/** In a child: answers the orchestrator's commands with `handler`, each reply tagged with its id. */
export function serveIpc(
  handler: (msg: Record<string, unknown>) => Promise<object> | object,
  onDisconnect: () => void = () => process.exit(0),
): void {
  process.on('message', (m: Record<string, unknown> & { id: number }) => {
    Promise.resolve()
      .then(() => handler(m))
      .then(
        (reply) => process.send!({ ...reply, id: m.id }),
        (err: unknown) =>
          process.send!({ id: m.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  // The orchestrator going away ends the child: nothing is left running.
  process.on('disconnect', onDisconnect);
}
