import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, INSTALL_HINT } from './find-binary.js';
import { freePort, waitForPortClosed } from './free-port.js';
import { spawnTethered, type TetheredProcess } from './tethered-process.js';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Its temp folder (removed by stop()). */
  readonly dir: string;
  /** Stops the server for good and removes its folder; resolves once the port is closed. */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port with no data, as a Redis restart without persistence does. */
  restart(): Promise<void>;
  /** Stops it (the port closes) until up(): to see what clients do while Redis is gone. */
  down(): Promise<void>;
  /** Starts it again after down(), on the same port, with no data. */
  up(): Promise<void>;
}

/**
 * A throwaway redis-server on a free loopback port, without persistence, in a temp folder. It dies with
 * the test process even when stop() is never called.
 */
export async function startRedis(): Promise<RedisServer> {
  const bin = findOnPath('redis-server');
  if (!bin) throw new Error(`redis-server is not installed: ${INSTALL_HINT}.`);
  const dir = mkdtempSync(join(tmpdir(), 'es-redis-'));
  let port = 0;
  let proc: TetheredProcess | null = null;

  const launch = () =>
    spawnTethered({
      name: `redis-server on port ${port}`,
      command: bin,
      // Keys by default live only in memory: a restart starts empty, and nothing is written to disk.
      args: [
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ['--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', ''],
      ].flat(),
      cwd: dir,
      stopSignal: 'TERM',
      orphanDir: dir,
      ready: /Ready to accept connections/,
    });
  const down = async () => {
    if (!proc) return;
    await proc.stop();
    proc = null;
    await waitForPortClosed(port);
  };
  const up = async () => {
    if (!proc) proc = await launch();
  };

  try {
    // Another process may take the free port before redis binds it: try a few.
    for (let attempt = 1; !proc; attempt++) {
      port = await freePort();
      try {
        proc = await launch();
      } catch (err) {
        if (attempt >= 3 || !/in use/i.test(String(err))) throw err;
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    down,
    up,
    restart: async () => {
      await down();
      await up();
    },
    stop: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
