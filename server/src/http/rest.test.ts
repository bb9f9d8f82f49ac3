import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtractedEvent } from '@app/shared';
import { readSse } from '../test-support/sse-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

describe('REST API', () => {
  let s: TestServer;
  const api = (path: string, init?: RequestInit) => fetch(`${s.url}/api/v1${path}`, init);
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.dispose());

  it('lists users with search and paging, and shows one with its behaviours', async () => {
    const page = (await (await api('/users?limit=10&offset=5')).json()) as {
      items: { id: string }[];
      total: number;
    };
    expect(page.total).toBeGreaterThanOrEqual(50);
    expect(page.items).toHaveLength(10);
    expect(page.items[0]!.id).toBe('user_0006');
    const found = (await (await api('/users?q=user_0007')).json()) as { items: { id: string }[] };
    expect(found.items.map((u) => u.id)).toEqual(['user_0007']);
    const one = (await (await api('/users/user_0007')).json()) as {
      behaviours: { id: string; action: string }[];
    };
    expect(one.behaviours.length).toBeGreaterThanOrEqual(8);
    expect(one.behaviours.some((b) => b.action === '试驾')).toBe(true);
    expect((await api('/users/user_9999')).status).toBe(404);
  });

  it('lists runs by user and exports events as CSV (raw UTF-8 Chinese) and JSONL', async () => {
    const frames = (await readSse(`${s.url}/api/v1/events/extract/user_0011/llm-stream`, { method: 'POST' }))
      .frames;
    const runId = frames[0]!.frame.runId;
    const runs = (await (await api('/runs?userId=user_0011')).json()) as {
      items: { id: string; status: string }[];
    };
    expect(runs.items[0]).toMatchObject({ id: runId, status: 'done' });
    const events = (await (await api('/events?userId=user_0011')).json()) as { items: ExtractedEvent[] };
    expect(events.items.length).toBeGreaterThan(0);
    expect(events.items.every((e) => e.runId === runId)).toBe(true);

    const csv = await api('/events/export?format=csv&userId=user_0011');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv; charset=utf-8/);
    const text = await csv.text();
    const lines = text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'user_id,event_type,start_time,end_time,source_behavior_ids,summary,run_id,line_no',
    );
    expect(lines).toHaveLength(events.items.length + 1);
    expect(text).toContain(events.items[0]!.eventType);
    expect(text).not.toMatch(/\\u[0-9a-f]{4}/i);
    const jsonl = await (await api('/events/export?format=jsonl&userId=user_0011')).text();
    expect(
      jsonl
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as ExtractedEvent),
    ).toEqual(events.items);
    expect((await api('/events/export?format=xml')).status).toBe(400);
  });

  it('imports JSONL all-or-nothing, listing every bad row', async () => {
    const before = (await (await api('/users?limit=1')).json()) as { total: number };
    const bad = [
      '{"type":"user","id":"user_9001","name":"王女士","profile":{"city":"杭州"}}',
      '{"user_id":"user_9001","id":"b9001-01","ts":"2026-02-01 10:00","action":"浏览车型","object":"理想L6","channel":"app"}',
      '{"user_id":"user_9001","id":"b9001-02","ts":"2026-02-30 10:00","action":"试驾","object":"理想L6","channel":"store"}',
      'not json',
    ].join('\n');
    const res = await api('/import?format=jsonl', { method: 'POST', body: bad });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; details: { errors: { line: number }[] } } };
    expect(body.error.code).toBe('import_invalid');
    expect(body.error.details.errors.map((e) => e.line)).toEqual([3, 4]);
    expect(((await (await api('/users?limit=1')).json()) as { total: number }).total).toBe(before.total);
    expect((await api('/users/user_9001')).status).toBe(404);

    const good = bad.split('\n').slice(0, 2).join('\n');
    const ok = await api('/import', {
      method: 'POST',
      body: good,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(ok.status).toBe(201);
    const user = (await (await api('/users/user_9001')).json()) as {
      profile: { city: string };
      behaviours: unknown[];
    };
    expect(user.profile.city).toBe('杭州');
    expect(user.behaviours).toHaveLength(1);
    expect((await api('/import', { method: 'POST', body: '' })).status).toBe(400);
  });

  it('exposes Prometheus metrics counting runs by outcome', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/es_runs_started_total\{kind="start"\} [1-9]/);
    expect(text).toMatch(/es_runs_settled_total\{status="done"\} [1-9]/);
    expect(text).toContain('es_runs_running 0');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('reports the model in use', async () => {
    const h = (await (await api('/health')).json()) as { model: { name: string; builtin: boolean } };
    expect(h.model).toMatchObject({ name: 'builtin-rules-v1', builtin: true });
  });
});

describe('server-wide run limit', () => {
  it('refuses runs beyond MAX_RUNNING_RUNS with 429 too_many_runs, and accepts again once one ends', async () => {
    const s = await startTestServer({ MAX_RUNNING_RUNS: 1, BUILTIN_PIECES_PER_SECOND: 50 });
    try {
      const api = (path: string, init?: RequestInit) => fetch(`${s.url}/api/v1${path}`, init);
      const post = (userId: string) =>
        api('/runs', {
          method: 'POST',
          body: JSON.stringify({ userId }),
          headers: { 'content-type': 'application/json' },
        });
      const first = (await (await post('user_0001')).json()) as { runId: string };
      const refused = await post('user_0002');
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_runs');
      expect((await api(`/runs/${first.runId}/cancel`, { method: 'POST' })).status).toBe(202);
      await readSse(`${s.url}/api/v1/runs/${first.runId}/stream`);
      expect((await post('user_0002')).status).toBe(201);
    } finally {
      await s.dispose();
    }
  });
});
