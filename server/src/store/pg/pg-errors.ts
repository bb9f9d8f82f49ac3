import type pg from 'pg';
import { AppError } from '../../app-error.js';

/** Socket errors of a server that is down, restarting or out of reach. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs of a server going away: admin or crash shutdown, not yet accepting connections. */
const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03']);

/** pg reports a lost or never-made connection with a plain Error and one of these messages. */
const LOST_CONNECTION =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection refused/i;

/** The error says PostgreSQL cannot be reached now (as opposed to a bad query or a constraint). */
export function isPgUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SHUTDOWN_CODES.has(code)) return true;
    // Class 08: connection exceptions.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (LOST_CONNECTION.test(err.message)) return true;
  // Node's multi-address connect throws an AggregateError whose parts carry the codes.
  if (err instanceof AggregateError) return err.errors.some(isPgUnreachable);
  return err.cause !== undefined && isPgUnreachable(err.cause);
}

/**
 * Rethrows `err`, as `storage_unavailable` (503, retryable) when PostgreSQL is unreachable, so callers
 * answer "try again" instead of a 500. Use as `.catch(pgErrorToApp)`.
 */
export function pgErrorToApp(err: unknown): never {
  if (isPgUnreachable(err))
    throw new AppError('storage_unavailable', 'PostgreSQL is unreachable; try again shortly.');
  throw err;
}

/** A connection checked out for a transaction; `done` gives it back, closing it when it `failed`. */
export interface Checkout {
  client: pg.PoolClient;
  done(failed?: boolean): void;
}

/**
 * Checks out a connection (`storage_unavailable` when out of reach). While it is out the pool does not
 * listen for its errors, and a connection lost between two queries would be an uncaught 'error' that ends
 * the process: this listens until `done`. The next query on a lost connection fails and says why.
 */
export async function checkout(pool: pg.Pool): Promise<Checkout> {
  const client = await pool.connect().catch(pgErrorToApp);
  const ignore = () => {};
  client.on('error', ignore);
  let out = true;
  return {
    client,
    done: (failed = false) => {
      if (!out) return;
      out = false;
      client.removeListener('error', ignore);
      client.release(failed);
    },
  };
}
