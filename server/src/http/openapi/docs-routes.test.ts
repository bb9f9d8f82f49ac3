import { Parser } from '@asyncapi/parser';
import { validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_MESSAGE_TYPES, SERVER_MESSAGE_TYPES } from '@app/shared';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { createApp } from '../app.js';

describe('served descriptions: OpenAPI 3.1 and AsyncAPI 3, generated from the schemas', () => {
  let s: TestServer;
  beforeAll(async () => {
    // With a token: the descriptions are public, the API behind them is not.
    s = await startTestServer({ API_TOKEN: 'docs-token-123' });
  });
  afterAll(() => s.dispose());

  const get = (path: string) => fetch(`${s.url}/api/v1${path}`);

  it('the OpenAPI document validates with the official 3.1 schema', async () => {
    const res = await get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenAPIV3_1.Document;
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc));
    expect(result.valid ? [] : result.errors).toEqual([]);
    // Shapes come from the shared schemas, by name.
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(
      expect.arrayContaining(['RunDetail', 'RunFrame', 'ApiError', 'UserPage', 'StartRunRequest', 'Health']),
    );
  });

  it('documents every route the app registers, and nothing it does not', async () => {
    const doc = (await (await get('/openapi.json')).json()) as OpenAPIV3_1.Document;
    const registered = new Set(
      createApp(s.ctx)
        .routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
        Object.keys(item ?? {})
          .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
          .map((method) => `${method} ${path}`),
      ),
    );
    expect(registered.size).toBeGreaterThan(15);
    expect([...registered].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((d) => !registered.has(d))).toEqual([]);
    // Parameters come from the validators' schemas.
    const runs = doc.paths?.['/api/v1/runs']?.get as OpenAPIV3_1.OperationObject;
    expect((runs.parameters as OpenAPIV3_1.ParameterObject[]).map((p) => `${p.in} ${p.name}`)).toEqual(
      expect.arrayContaining(['query limit', 'query offset', 'query status', 'query userId']),
    );
    const sse = doc.paths?.['/api/v1/events/extract/{userId}/llm-stream']
      ?.post as OpenAPIV3_1.OperationObject;
    expect(Object.keys((sse.responses?.['200'] as OpenAPIV3_1.ResponseObject).content ?? {})).toEqual([
      'text/event-stream',
    ]);
  });

  it('serves a reference page that loads nothing from the internet', async () => {
    const page = await get('/reference');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('SwaggerUIBundle');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const [file, type] of [
      ['swagger-ui-bundle.js', 'javascript'],
      ['swagger-ui.css', 'css'],
    ] as const) {
      expect(html).toContain(`reference/assets/swagger-ui-dist/${file}`);
      const asset = await get(`/reference/assets/swagger-ui-dist/${file}`);
      expect([asset.status, asset.headers.get('content-type')]).toEqual([200, expect.stringContaining(type)]);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    }
    expect((await get('/reference/assets/swagger-ui-dist/package.json')).status).toBe(404);
    // The API itself still wants the token.
    expect((await get('/health')).status).toBe(401);
  });

  it('the AsyncAPI document parses cleanly with @asyncapi/parser and names every message type', async () => {
    const res = await get('/asyncapi.json');
    expect(res.status).toBe(200);
    const { document, diagnostics } = await new Parser().parse(await res.text());
    // Severity 0 is an error, 1 a warning; 2–3 are hints (e.g. "3.1.0 exists").
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    const names = document!
      .allMessages()
      .all()
      .map((m) => m.name());
    for (const type of [...CLIENT_MESSAGE_TYPES, ...SERVER_MESSAGE_TYPES]) expect(names).toContain(type);
    const receives = document!
      .operations()
      .filterByReceive()
      .map((o) => o.id());
    expect(receives.sort()).toEqual([...CLIENT_MESSAGE_TYPES].sort());
    expect(document!.channels().all()[0]!.address()).toBe('/api/v1/ws');
  }, 30_000);
});
