import type { RunDetail, RunSummary } from '@app/shared';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The REST calls specs make, against one base URL: a server, or nginx in front of a cluster. */
export abstract class RestClient {
  abstract readonly url: string;

  /** Headers every call carries (a bearer token, when the server has one). */
  authHeaders(): Record<string, string> {
    return {};
  }

  async json<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await fetch(`${this.url}/api/v1${path}`, {
      ...init,
      headers: { ...this.authHeaders(), ...(init?.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  run(runId: string): Promise<RunDetail> {
    return this.json<RunDetail>(`/runs/${runId}`);
  }

  runs(userId: string): Promise<{ items: RunSummary[] }> {
    return this.json(`/runs?userId=${encodeURIComponent(userId)}`);
  }

  /** Starts a run over REST and waits (bounded) until it settles. */
  async runToEnd(userId: string, timeoutMs = 60_000): Promise<RunDetail> {
    const { runId } = await this.json<{ runId: string }>('/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const d = await this.run(runId);
      if (d.status !== 'running') return d;
      await sleep(250);
    }
    throw new Error(`run ${runId} of ${userId} did not settle within ${timeoutMs} ms`);
  }
}
