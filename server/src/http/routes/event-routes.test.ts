import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../../test-support/sse-client.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

describe('GET /events/export?format=csv', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.dispose());

  it('exports ids that start like a formula neutralised, the Chinese summary as it was', async () => {
    // Ids may start with "-": a spreadsheet would read "-b1…" as a formula.
    const rows = [
      { type: 'user', id: '-u1', name: '王女士', profile: {} },
      {
        user_id: '-u1',
        id: '-b1',
        ts: '2026-02-01 10:00',
        action: '浏览车型',
        object: '理想L6',
        channel: 'app',
      },
      {
        user_id: '-u1',
        id: 'b2',
        ts: '2026-02-01 10:10',
        action: '查看配置',
        object: '理想L6',
        channel: 'app',
      },
    ];
    const imported = await fetch(`${s.url}/api/v1/import?format=jsonl`, {
      method: 'POST',
      body: rows.map((r) => JSON.stringify(r)).join('\n'),
    });
    expect(imported.status).toBe(201);
    const run = await readSse(`${s.url}/api/v1/events/extract/-u1/llm-stream`, { method: 'POST' });
    expect(run.frames.at(-1)?.frame.type).toBe('done');

    const csv = await (await fetch(`${s.url}/api/v1/events/export?format=csv&userId=-u1`)).text();
    const [header, ...records] = parse(csv.replace(/^\uFEFF/, '')) as string[][];
    expect(header![0]).toBe('user_id');
    expect(records.length).toBeGreaterThan(0);
    const first = records[0]!;
    expect(first[0]).toBe("'-u1");
    expect(first[4]).toMatch(/^'-b1/);
    expect(first[5]).toMatch(/^通过App浏览车型/);
    expect(csv).toContain(`"'-u1",`);
  });
});
