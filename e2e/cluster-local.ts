import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunDetail, RunFrame } from '@app/shared';
import { RestClient } from './rest-client';
import { freePort } from './server';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a process with this pid exists (a zombie counts: it was not reaped yet). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `bash scripts/cluster-local.sh` (serve mode) on a free port: Redis, PostgreSQL, the instances and
 * nginx, all in the script's temp folder. The script runs in its own process group; stopping it sends
 * SIGTERM to the script, whose trap stops everything it started, and then checks that nothing is left.
 */
export class LocalCluster extends RestClient {
  /** Instance id → pid, as the script prints them. */
  readonly pids = new Map<string, number>();
  /** Instance id → its own port (behind nginx, but reachable directly). */
  readonly ports = new Map<string, number>();
  url = '';
  redisPort = 0;
  /** The script's temp folder (logs, PostgreSQL data, nginx prefix); removed when it stops. */
  work = '';
  private out = '';
  private exited: Promise<number | null>;
  /** Every process of the set-up seen while it ran (the script's group, and PostgreSQL in its own session). */
  private readonly seen = new Set<number>();
  private readonly onExit = () => this.killNow();

  private constructor(private readonly proc: ChildProcess) {
    super();
    const keep = (b: Buffer) => {
      this.out = (this.out + b.toString()).slice(-40_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((ok) => proc.once('exit', (code) => ok(code)));
    // The worker going away without afterAll must not leave the set-up running.
    process.once('exit', this.onExit);
  }

  /** Starts the script and waits (bounded) until it printed its URL and health answers through nginx. */
  static async start(env: Record<string, string>, timeoutMs = 150_000): Promise<LocalCluster> {
    const port = await freePort();
    const proc = spawn('bash', ['scripts/cluster-local.sh'], {
      cwd: ROOT,
      env: { ...process.env, ...env, CLUSTER_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: nothing it starts shares the test runner's.
      detached: true,
    });
    const cluster = new LocalCluster(proc);
    try {
      await cluster.ready(port, timeoutMs);
    } catch (err) {
      await cluster.stop().catch(() => {});
      throw err;
    }
    return cluster;
  }

  private async ready(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = `http://127.0.0.1:${port}`;
    while (!this.out.split('\n').includes(url)) {
      if (this.proc.exitCode !== null)
        throw new Error(`cluster-local.sh exited with ${this.proc.exitCode}:\n${this.out}`);
      if (Date.now() > deadline)
        throw new Error(`cluster-local.sh printed no URL within ${timeoutMs} ms:\n${this.out}`);
      await sleep(100);
    }
    this.url = url;
    this.redisPort = Number(/Redis :(\d+)/.exec(this.out)?.[1]);
    this.work = /logs: (\S+)/.exec(this.out)?.[1] ?? '';
    for (const m of this.out.matchAll(/instance (\w+): port (\d+), pid (\d+)/g)) {
      this.ports.set(m[1]!, Number(m[2]));
      this.pids.set(m[1]!, Number(m[3]));
    }
    if (!this.redisPort || !this.work || this.pids.size === 0)
      throw new Error(`could not read the set-up from the script's output:\n${this.out}`);
    while (!(await this.healthy())) {
      if (Date.now() > deadline)
        throw new Error(`no health through nginx within ${timeoutMs} ms:\n${this.out}`);
      await sleep(150);
    }
    this.noteProcesses();
  }

  private async healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/api/v1/health`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  }

  /** Records the script's process group and the PostgreSQL server (pg_ctl starts it in its own session). */
  private noteProcesses(): void {
    const group = execFileSync('ps', ['-o', 'pid=', '-g', String(this.proc.pid)], { encoding: 'utf8' });
    for (const pid of group.split(/\s+/).filter(Boolean)) this.seen.add(Number(pid));
    const postmaster = this.postmasterPid();
    if (postmaster) this.seen.add(postmaster);
  }

  private postmasterPid(): number | null {
    try {
      return Number(readFileSync(join(this.work, 'pg/data/postmaster.pid'), 'utf8').split('\n')[0]) || null;
    } catch {
      return null;
    }
  }

  get output(): string {
    return this.out;
  }

  /** The instance holding a run's lease in Redis (its generator), or null when nobody does. */
  owner(runId: string): string | null {
    const out = this.redis('GET', `es:lease:${runId}`);
    return out === '' ? null : out;
  }

  private redis(...args: string[]): string {
    return execFileSync('redis-cli', ['-p', String(this.redisPort), '--raw', ...args], {
      encoding: 'utf8',
      timeout: 5000,
    }).trim();
  }

  /**
   * What every live instance and Redis say about these runs, for a look after a failure: each instance's
   * summary of the run (its own memory, or storage), the lease, and the run's Redis stream (entries are
   * seqs), plus each instance's `es_` metrics.
   */
  async state(runIds: string[]): Promise<object> {
    const live = [...this.ports].filter(([id]) => alive(this.pids.get(id)!));
    const get = async (port: number, path: string): Promise<string> => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
        return `${res.status} ${await res.text()}`;
      } catch (err) {
        return String(err);
      }
    };
    const runs: Record<string, object> = {};
    for (const runId of runIds) {
      const at: Record<string, unknown> = {};
      for (const [id, port] of live) {
        const [status, body] = (await get(port, `/api/v1/runs/${runId}`)).split(/ (.*)/s) as [string, string];
        try {
          const { text, events, rejected, ...summary } = JSON.parse(body) as RunDetail;
          at[id] = { ...summary, textLength: text.length, events: events.length, rejected };
        } catch {
          at[id] = `${status} ${body.slice(0, 300)}`;
        }
      }
      let stream: unknown;
      try {
        stream = {
          length: this.redis('XLEN', `es:run:${runId}:log`),
          last: this.redis('XREVRANGE', `es:run:${runId}:log`, '+', '-', 'COUNT', '1').split('\n')[0],
          ttlMs: this.redis('PTTL', `es:run:${runId}:log`),
        };
      } catch (err) {
        stream = String(err);
      }
      let log: unknown;
      try {
        const frames = await (await this.watch(runId, { timeoutMs: 5000 })).frames;
        log = {
          frames: frames.length,
          seqsInOrder: frames.every((f, i) => f.seq === i + 1),
          resumedAt: frames.filter((f) => f.type === 'progress' && f.stage === 'resumed').map((f) => f.seq),
          terminal: frames
            .filter((f) => ['done', 'cancelled', 'error'].includes(f.type))
            .map((f) => `${f.type}@${f.seq}`),
        };
      } catch (err) {
        log = String(err);
      }
      runs[runId] = { lease: this.owner(runId), stream, log, instances: at };
    }
    const metrics: Record<string, string[]> = {};
    for (const [id, port] of live)
      metrics[id] = (await get(port, '/metrics')).split('\n').filter((l) => l.startsWith('es_'));
    return { at: new Date().toISOString(), live: live.map(([id]) => id), runs, metrics };
  }

  /** A counter summed over the live instances' `/metrics` (e.g. `es_cluster_runs_taken_over`). */
  async metric(name: string): Promise<number> {
    let sum = 0;
    for (const [id, port] of this.ports) {
      if (!alive(this.pids.get(id)!)) continue;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
      const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
      sum += Number(line?.split(' ')[1] ?? 0);
    }
    return sum;
  }

  /** Lines the instances logged at level error or fatal (PROTOCOL_CHECK logs a schema violation so). */
  errorLines(): string[] {
    return Object.entries(this.logs())
      .filter(([name]) => [...this.pids.keys()].some((id) => name === `${id}.log`))
      .flatMap(([name, text]) =>
        text
          .split('\n')
          .filter((l) => /"level":(50|60)\b/.test(l))
          .map((l) => `${name}: ${l}`),
      );
  }

  /** A crash of one instance: SIGKILL, nothing it could clean up. */
  kill9(id: string): void {
    const pid = this.pids.get(id);
    if (!pid) throw new Error(`no instance ${id}`);
    process.kill(pid, 'SIGKILL');
  }

  /** The logs of the instances, Redis, PostgreSQL and nginx (the script deletes its folder when it stops). */
  logs(): Record<string, string> {
    const out: Record<string, string> = {};
    if (!this.work || !existsSync(this.work)) return out;
    for (const f of readdirSync(this.work).filter((n) => n.endsWith('.log')))
      out[f] = readFileSync(join(this.work, f), 'utf8');
    for (const [name, path] of [
      ['postgres.log', 'pg/postgres.log'],
      ['nginx-error.log', 'nginx/logs/error.log'],
      ['nginx-access.log', 'nginx/logs/access.log'],
    ] as const) {
      if (existsSync(join(this.work, path))) out[name] = readFileSync(join(this.work, path), 'utf8');
    }
    return out;
  }

  /**
   * Watches a run over SSE (`GET /runs/{id}/stream?after=`), through nginx or straight to one instance
   * (`instance`). Resolves once the response has begun (the watcher is attached); `frames` then resolves
   * when the response ends, which it does once the run has settled and every frame was sent, and rejects
   * when it has not ended by `timeoutMs`.
   */
  async watch(
    runId: string,
    opts: { after?: number; instance?: string; timeoutMs?: number } = {},
  ): Promise<{ frames: Promise<RunFrame[]> }> {
    const base = opts.instance ? `http://127.0.0.1:${this.ports.get(opts.instance)}` : this.url;
    const res = await fetch(`${base}/api/v1/runs/${runId}/stream?after=${opts.after ?? 0}`, {
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    if (!res.ok || !res.body) throw new Error(`GET /runs/${runId}/stream: HTTP ${res.status}`);
    const body = res.body;
    const read = async (): Promise<RunFrame[]> => {
      const frames: RunFrame[] = [];
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const bytes of body) {
        buffered += decoder.decode(bytes, { stream: true });
        const messages = buffered.split('\n\n');
        buffered = messages.pop()!;
        for (const message of messages) {
          const data = message
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) frames.push(JSON.parse(data) as RunFrame);
        }
      }
      return frames;
    };
    const frames = read();
    // Awaited later: a failure meanwhile is not an unhandled rejection.
    frames.catch(() => {});
    return { frames };
  }

  /** A settled run's whole frame log, over SSE through nginx. */
  async log(runId: string): Promise<RunFrame[]> {
    return (await this.watch(runId)).frames;
  }

  /**
   * SIGTERM to the script (its trap stops nginx, the instances, Redis and PostgreSQL, then removes its
   * folder), bounded; then throws if any process of the set-up or the folder is still there.
   */
  async stop(timeoutMs = 45_000): Promise<void> {
    process.removeListener('exit', this.onExit);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = sleep(timeoutMs).then(() => 'timeout' as const);
      if ((await Promise.race([this.exited, timer])) === 'timeout') {
        this.killNow();
        await this.exited;
        throw new Error(`cluster-local.sh did not stop within ${timeoutMs} ms on SIGTERM:\n${this.out}`);
      }
    }
    // The script waited for what it stopped; give a killed process's last reap a moment.
    const deadline = Date.now() + 5000;
    let left = [...this.seen].filter(alive);
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(100);
      left = left.filter(alive);
    }
    const strays = this.work ? this.processesNaming(this.work) : [];
    const folderLeft = this.work !== '' && existsSync(this.work);
    if (left.length > 0 || strays.length > 0 || folderLeft) {
      this.killNow();
      throw new Error(
        `cluster-local.sh left behind: pids ${left.join(' ') || '-'}; ${strays.join('; ') || '-'}; ` +
          `folder ${folderLeft ? this.work : '-'}\n${this.out}`,
      );
    }
  }

  /** Processes whose command line names `text` (nginx and PostgreSQL name the temp folder). */
  private processesNaming(text: string): string[] {
    const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
    return ps
      .split('\n')
      .filter((line) => line.includes(text))
      .map((l) => l.trim());
  }

  /** Last resort, synchronous: SIGKILL the script's group, stop PostgreSQL at once, remove the folder. */
  private killNow(): void {
    const pid = this.proc.pid;
    try {
      if (pid) process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    const postmaster = this.postmasterPid();
    try {
      // SIGQUIT: PostgreSQL's immediate shutdown, its backends included.
      if (postmaster) process.kill(postmaster, 'SIGQUIT');
    } catch {
      // already gone
    }
    if (this.work) rmSync(this.work, { recursive: true, force: true });
  }
}
