import { describe, expect, it } from 'vitest';
import { readSse } from '../test-support/sse-client.js';
import { startTestServer } from '../test-support/test-server.js';
import { TestWsClient } from '../ws/test-ws-client.js';

describe('PROTOCOL_CHECK: the server checks what it sends against the shared schemas', () => {
  it('sees every WebSocket message and SSE frame of a run, and finds nothing wrong with them', async () => {
    const s = await startTestServer();
    const check = s.ctx.protocolCheck!;
    const c = await TestWsClient.connect(s);
    const runId = await c.start('user_0007');
    const wsFrames = await c.settled(runId);
    await c.request({ type: 'cancel', runId }); // a request_error: the run is over
    await c.alive();
    const sse = await readSse(`${s.url}/api/v1/runs/${runId}/stream`);
    await c.close();
    // hello, ack, frames, request_error, pong; the SSE replay is the same frames as the WebSocket's.
    expect(sse.frames).toHaveLength(wsFrames.length);
    expect(check.checked).toBeGreaterThanOrEqual(wsFrames.length + 4);
    expect(check.violations).toEqual([]);
    await s.dispose();
  });

  it('reports a message that does not fit, and the test server fails when it stops', async () => {
    const s = await startTestServer();
    const check = s.ctx.protocolCheck!;
    // Protocol 1's request error: `error` without the fields of a run's error frame.
    check.wsMessage('{"type":"error","code":"run_not_found","message":"x","retryable":false}');
    check.sseFrame('{"type":"llm_chunk","runId":"run_x","content":"看车"}');
    check.wsMessage('{"type":"launch"}');
    expect(check.violations).toHaveLength(3);
    expect(check.violations[1]).toMatch(/^SSE frame .*seq/);
    await expect(s.dispose()).rejects.toThrow(/sent 3 message\(s\) its schemas do not allow/);
  });
});
