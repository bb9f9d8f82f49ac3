import { randomUUID } from 'node:crypto';
import {
  apiErrorBodySchema,
  healthSchema,
  runDetailSchema,
  startRunResponseSchema,
  userDetailSchema,
  type Health,
  type RunDetail,
  type UserDetail,
} from '@app/shared';
import type { z } from 'zod';

/** An API answer that was not a success, with the server's stable code when it sent one. */
export class EvalApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** The few REST calls an evaluation needs, every answer checked against the shared schemas. */
export class EvalApi {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, token?: string) {
    this.#base = `${baseUrl.replace(/\/+$/, '')}/api/v1`;
    this.#headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  async #call<S extends z.ZodType>(schema: S, path: string, init: RequestInit = {}): Promise<z.infer<S>> {
    const res = await fetch(`${this.#base}${path}`, {
      ...init,
      headers: { ...this.#headers, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    });
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const err = apiErrorBodySchema.safeParse(body);
      const what = err.success ? `${err.data.error.code}: ${err.data.error.message}` : res.statusText;
      throw new EvalApiError(
        `${init.method ?? 'GET'} ${path}: ${res.status} ${what}`,
        res.status,
        err.success ? err.data.error.code : null,
      );
    }
    return schema.parse(body);
  }

  health(): Promise<Health> {
    return this.#call(healthSchema, '/health');
  }

  user(userId: string): Promise<UserDetail> {
    return this.#call(userDetailSchema, `/users/${encodeURIComponent(userId)}`);
  }

  run(runId: string): Promise<RunDetail> {
    return this.#call(runDetailSchema, `/runs/${encodeURIComponent(runId)}`);
  }

  /** Starts a run; waits for a slot while the server is at its run limit (429 too_many_runs). */
  async start(userId: string, signal: AbortSignal): Promise<string> {
    // One key for every retry: a start whose answer was lost is not run twice.
    const body = JSON.stringify({ userId, key: randomUUID() });
    for (;;) {
      try {
        return (await this.#call(startRunResponseSchema, '/runs', { method: 'POST', body })).runId;
      } catch (err) {
        if (!(err instanceof EvalApiError) || err.code !== 'too_many_runs' || signal.aborted) throw err;
        await sleep(250);
      }
    }
  }

  /**
   * Waits until the run has settled: its SSE stream ends once the run has settled and everything was
   * sent (204 when there was nothing left). Rejects when `signal` aborts first.
   */
  async settled(runId: string, signal: AbortSignal): Promise<RunDetail> {
    for (;;) {
      const res = await fetch(`${this.#base}/runs/${encodeURIComponent(runId)}/stream`, {
        headers: this.#headers,
        signal,
      });
      if (!res.ok) throw new EvalApiError(`stream of ${runId}: ${res.status}`, res.status, null);
      // The frames themselves are not needed: the run's stored detail is what is scored.
      for await (const _ of res.body ?? []) void _;
      const detail = await this.run(runId);
      if (detail.status !== 'running') return detail;
      await sleep(100);
    }
  }

  /** Asks the server to cancel a run (best effort: used when the evaluation gives up on it). */
  async cancel(runId: string): Promise<void> {
    await fetch(`${this.#base}/runs/${encodeURIComponent(runId)}/cancel`, {
      method: 'POST',
      headers: this.#headers,
    }).catch(() => undefined);
  }
}
