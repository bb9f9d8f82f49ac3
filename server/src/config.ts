import proxyaddr from 'proxy-addr';
import { z } from 'zod';

const int = (def: number) => z.coerce.number().int().nonnegative().default(def);

/** Every setting comes from the environment, with defaults that run on a developer's machine. */
const envSchema = z
  .object({
    PORT: int(8000),
    /** Bind address. Without API_TOKEN the default stays on loopback. */
    HOST: z.string().optional(),
    DATABASE_PATH: z.string().default('data/app.db'),
    /** postgres://…: PostgreSQL holds the records instead of the SQLite file at DATABASE_PATH. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
      .optional(),
    /** redis://… (with DATABASE_URL): instances share running runs, their streams, commands and leases. */
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'REDIS_URL must be a redis:// URL')
      .optional(),
    /** This instance's name in health, logs and leases; unset: host name and process id. */
    INSTANCE_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'INSTANCE_ID: letters, digits, . _ - (at most 64)')
      .optional(),
    /** Cluster: a running run's lease; an instance that stops renewing loses its runs after this long. */
    LEASE_MS: z.coerce.number().int().min(500).default(5000),
    /** Cluster: how often instances look for runs whose lease expired (taken over within LEASE_MS + this). */
    TAKEOVER_CHECK_MS: z.coerce.number().int().min(100).default(1000),
    /** Any OpenAI-compatible endpoint; unset means the built-in model. */
    OPENAI_BASE_URL: z.string().url().optional(),
    OPENAI_API_KEY: z.string().optional(),
    LLM_MODEL: z.string().optional(),
    API_TOKEN: z.string().min(8, 'API_TOKEN must be at least 8 characters').optional(),
    /** Comma-separated extra origins allowed to open the WebSocket. */
    ALLOWED_ORIGINS: z.string().default(''),
    /** Comma-separated extra names the server answers to (Host header); `.example.com` adds its subdomains; `*`/`all`: any. */
    ALLOWED_HOSTS: z.string().default(''),
    /** Proxies whose X-Forwarded-For/-Proto are believed: comma-separated IPs, subnets, `loopback`, `uniquelocal`… */
    TRUST_PROXY: z.string().default(''),
    /** Prompt budget for the behaviour block, characters: a longer history is split into chunks that fit. */
    PROMPT_BUDGET_CHARS: int(12_000),
    /** Chunk calls of one run in flight at once; their output still reaches the log in chunk order. */
    CHUNK_CONCURRENCY: int(2),
    /** 2: after the first pass, each chunk is reviewed against its events (missed events, corrections). */
    EXTRACTION_PASSES: z.coerce.number().int().min(1).max(2).default(1),
    UPSTREAM_MAX_RETRIES: int(3),
    UPSTREAM_RETRY_BASE_MS: int(500),
    UPSTREAM_RETRY_MAX_MS: int(20_000),
    /** No piece from the model for this long ends the run with `upstream_stalled`. */
    UPSTREAM_STALL_MS: int(30_000),
    /** Until the first byte of the response. */
    UPSTREAM_CONNECT_TIMEOUT_MS: int(60_000),
    SSE_HEARTBEAT_MS: int(15_000),
    WS_HEARTBEAT_MS: int(30_000),
    WS_MAX_MESSAGE_BYTES: int(64 * 1024),
    WS_MAX_RUNS_PER_SOCKET: int(8),
    /** Runs generating at once across the server; more are refused with too_many_runs (HTTP 429). */
    MAX_RUNNING_RUNS: int(1000),
    /** Runs one client (address; behind TRUST_PROXY its X-Forwarded-For) may have generating at once; 0 = no limit. */
    MAX_RUNNING_RUNS_PER_CLIENT: int(32),
    /** Largest body POST /api/v1/import takes, bytes (a 100,000-row file is about 20 MB). */
    IMPORT_MAX_BYTES: int(50 * 1024 * 1024),
    /** Above this many buffered bytes a socket stops getting live frames and catches up from the log. */
    WS_HIGH_WATER_BYTES: int(1024 * 1024),
    /** Cancel a run nobody has watched for this many seconds; 0 = never. */
    UNWATCHED_RUN_TIMEOUT_S: int(0),
    /** Finished runs (watchers caught up) kept in memory for fast re-attach; older ones are read back from the database. */
    SETTLED_RUNS_IN_MEMORY: int(256),
    /** Frames are committed once per event-loop turn (0), or batched for this many ms (adds as much latency). */
    DB_FLUSH_MS: int(0),
    /** How often a worker thread copies the WAL into the database file (0: SQLite does it on commit). */
    DB_CHECKPOINT_MS: int(1000),
    BUILTIN_PIECES_PER_SECOND: int(40),
    BUILTIN_FIRST_PIECE_MS: int(300),
    /** Continue, at start, the runs a crashed process left generating (never a run a person cancelled). */
    RESUME_INTERRUPTED: z.enum(['on', 'off']).default('on'),
    /** A run found interrupted more often than this is left for a person: it may be what crashes the server. */
    RESUME_INTERRUPTED_MAX: int(3),
    /** Load the demo users into an empty database on start. */
    DEMO_DATA: z.enum(['on', 'off']).default('on'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Parse every message the server sends against its schema in shared/ and report mismatches (tests turn it on). */
    PROTOCOL_CHECK: z.enum(['on', 'off']).default('off'),
    /** Folder of the built UI; unset = web/build beside the server. */
    WEB_BUILD_DIR: z.string().optional(),
  })
  .refine((e) => e.UPSTREAM_RETRY_BASE_MS <= e.UPSTREAM_RETRY_MAX_MS, {
    message: 'UPSTREAM_RETRY_BASE_MS must not exceed UPSTREAM_RETRY_MAX_MS',
  })
  .refine((e) => e.WS_MAX_MESSAGE_BYTES >= 256, { message: 'WS_MAX_MESSAGE_BYTES must be at least 256' })
  .refine((e) => e.WS_HEARTBEAT_MS === 0 || e.WS_HEARTBEAT_MS >= 1000, {
    message: 'WS_HEARTBEAT_MS must be 0 (off) or at least 1000',
  })
  .refine((e) => !e.REDIS_URL || e.DATABASE_URL, {
    message: 'REDIS_URL needs DATABASE_URL: instances share runs through PostgreSQL and Redis together',
    path: ['REDIS_URL'],
  })
  .superRefine((e, ctx) => {
    try {
      trustOf(e.TRUST_PROXY);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['TRUST_PROXY'], message: (err as Error).message });
    }
  });

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  host: string;
  allowedOrigins: string[];
  /** Names a request's Host may carry besides IP addresses and localhost; `all` turns the check off. */
  allowedHosts: string[] | 'all';
  /** Whether an address (`i` hops from us) is a proxy to believe; null when TRUST_PROXY is unset. */
  trustProxy: ((addr: string, i: number) => boolean) | null;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** TRUST_PROXY compiled by proxy-addr (Express's `trust proxy`); throws a sentence on a bad entry. */
function trustOf(raw: string): Config['trustProxy'] {
  const entries = list(raw);
  return entries.length > 0 ? proxyaddr.compile(entries) : null;
}

/** ALLOWED_HOSTS plus a concrete HOST, lower-cased, without ports. */
function allowedHostsOf(raw: string, host: string | undefined): Config['allowedHosts'] {
  const names = list(raw).map((h) => h.toLowerCase().replace(/:\d+$/, ''));
  if (names.includes('*') || names.includes('all')) return 'all';
  if (host && host !== '0.0.0.0' && host !== '::') names.push(host.toLowerCase());
  return names;
}

/** Parses settings; impossible ones fail start-up with a sentence per problem. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Env> = {},
): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse({ ...clean, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'config'}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    ...e,
    host: e.HOST ?? '127.0.0.1',
    allowedOrigins: e.ALLOWED_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    allowedHosts: allowedHostsOf(e.ALLOWED_HOSTS, e.HOST),
    trustProxy: trustOf(e.TRUST_PROXY),
  };
}
