import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

describe('requests are checked by the same schemas that document them', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.dispose());

  const refusal = async (path: string) => {
    const res = await fetch(`${s.url}/api/v1${path}`);
    return [res.status, ((await res.json()) as { error: { code: string; message: string } }).error] as const;
  };

  it('a bad parameter is 400 bad_request naming it', async () => {
    expect(await refusal('/users?limit=0')).toEqual([
      400,
      { code: 'bad_request', message: 'Query parameter limit: must be an integer from 1 to 500.' },
    ]);
    expect(await refusal('/runs/nope')).toEqual([
      400,
      { code: 'bad_request', message: 'Path parameter runId: run id looks like run_xxxxxxxx.' },
    ]);
    const [status, error] = await refusal('/runs?status=lost&offset=-1');
    expect([status, error.code]).toEqual([400, 'bad_request']);
    expect(error.message).toMatch(/Query parameter status: .*; Query parameter offset: must be an integer/);
  });

  it('defaults and empty values still work', async () => {
    const page = (await (await fetch(`${s.url}/api/v1/users?limit=&q=`)).json()) as {
      limit: number;
      offset: number;
    };
    expect(page).toMatchObject({ limit: 50, offset: 0 });
  });
});
